import type { Logger } from '@nestjs/common';
import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import { EarlierVersionFallback, tooManyParams, unknownMethod } from './earlier-version-fallback';

describe(EarlierVersionFallback.name, () => {
  const warnings: string[] = [];
  const logger = { warn: (m: string) => void warnings.push(m) } as unknown as Logger;
  let sut: EarlierVersionFallback;
  let used: string[];
  const json = (outcome: () => Promise<string>) => () => (used.push('json'), outcome());
  const structs = () => (used.push('structs'), Promise.resolve('structs'));

  beforeEach(() => {
    warnings.length = 0;
    used = [];
    sut = new EarlierVersionFallback('node2', logger, unknownMethod, 'does not know the JSON batch methods');
  });

  it('sends JSON while the peer knows the JSON methods', async () => {
    expect(await sut.run(json(async () => 'json'), structs)).toBe('json');
    expect(used).toEqual(['json']);
  });

  it('falls back to structs for a peer that does not know them (an earlier version), and stays there, warning once', async () => {
    const unknown = json(() => Promise.reject(new XmlRpcFault(XmlRpcFaultCode.MethodNotFound, 'unknown method')));
    expect(await sut.run(unknown, structs)).toBe('structs');
    expect(await sut.run(unknown, structs)).toBe('structs');
    expect(used).toEqual(['json', 'structs', 'structs']);
    expect(warnings).toEqual(['Peer node2 does not know the JSON batch methods (an earlier version)']);
  });

  it('passes any other failure on (a refusal must reach the caller, not be retried as structs)', async () => {
    const refused = new XmlRpcFault(XmlRpcFaultCode.PeerNotAuthorised, 'room r1 is hosted by node3');
    await expect(sut.run(json(() => Promise.reject(refused)), structs)).rejects.toBe(refused);
    expect(used).toEqual(['json']);
  });

  it('tries JSON again after the peer restarted (it may have been upgraded)', async () => {
    await sut.run(json(() => Promise.reject(new XmlRpcFault(XmlRpcFaultCode.MethodNotFound, 'unknown method'))), structs);
    sut.retryCurrent();
    expect(await sut.run(json(async () => 'json'), structs)).toBe('json');
  });

  it('knows an earlier version\'s refusal of a trailing param it does not take, and nothing else as one', () => {
    expect(tooManyParams(new XmlRpcFault(XmlRpcFaultCode.InvalidParams, 'heartbeat takes 0 parameter(s), got 2'))).toBe(true);
    expect(tooManyParams(new XmlRpcFault(XmlRpcFaultCode.InvalidParams, 'get_messages takes 3-5 parameter(s), got 6'))).toBe(true);
    expect(tooManyParams(new XmlRpcFault(XmlRpcFaultCode.InvalidParams, 'room_log_json: batch: is not JSON'))).toBe(false);
    expect(tooManyParams(new XmlRpcFault(XmlRpcFaultCode.PeerNotAuthorised, 'heartbeat takes 0 parameter(s), got 2'))).toBe(false);
    expect(tooManyParams(new Error('heartbeat takes 0 parameter(s), got 2'))).toBe(false);
  });
});
