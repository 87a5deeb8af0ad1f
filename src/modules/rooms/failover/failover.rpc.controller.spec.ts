import { XmlRpcFaultCode } from '../../../common/xmlrpc';
import type { ClaimGrants } from './claim-grants';
import { FailoverRpcController } from './failover.rpc.controller';

describe(FailoverRpcController.name, () => {
  const calls: unknown[][] = [];
  const grants = { answer: (...args: unknown[]) => (calls.push(args), { granted: true }) };
  const sut = new FailoverRpcController(grants as unknown as ClaimGrants);

  beforeEach(() => (calls.length = 0));

  it('hands a claim (room, epoch, candidate) to the voter side and returns its answer', () => {
    expect(sut.claimRoom(['r1', 3, 'node2'])).toEqual({ granted: true });
    expect(calls).toEqual([['r1', 3, 'node2']]);
  });

  it('refuses mistyped params with -32602 before any grant', () => {
    expect(() => sut.claimRoom(['r1', 'three', 'node2'])).toThrow(expect.objectContaining({ code: XmlRpcFaultCode.InvalidParams }));
    expect(() => sut.claimRoom(['r1', 3])).toThrow(expect.objectContaining({ code: XmlRpcFaultCode.InvalidParams }));
    expect(calls).toEqual([]);
  });
});
