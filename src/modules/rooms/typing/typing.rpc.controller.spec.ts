import { XmlRpcFaultCode } from '../../../common/xmlrpc';
import type { TypingNotices } from './typing-notices.service';
import { TypingRpcController } from './typing.rpc.controller';

describe(TypingRpcController.name, () => {
  const shown: unknown[][] = [];
  const sut = new TypingRpcController({ fromPeer: (...args: unknown[]) => (shown.push(args), true) } as unknown as TypingNotices);
  const fault = (params: unknown) => {
    try {
      sut.typingNotice(params);
    } catch (e) {
      return (e as { code?: number }).code;
    }
    return 'no fault';
  };

  it('hands a well-formed notice on', () => {
    expect(sut.typingNotice(['r1', 'alice', 'node2'])).toBe(true);
    expect(shown).toEqual([['r1', 'alice', 'node2']]);
  });

  it('answers a -32602 fault for params of the wrong number, kind or size', () => {
    for (const bad of [[], ['r1', 'alice'], ['r1', 'alice', 'node2', 'extra'], ['r1', 42, 'node2'], [null, 'alice', 'node2'], ['r'.repeat(65), 'alice', 'node2'], ['r1', 'a'.repeat(65), 'node2'], ['r1', '', 'node2'], 'not a list']) {
      expect({ bad, fault: fault(bad) }).toEqual({ bad, fault: XmlRpcFaultCode.InvalidParams });
    }
  });
});
