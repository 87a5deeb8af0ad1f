import { Test } from '@nestjs/testing';
import { XmlRpcFaultCode } from '../../../common/xmlrpc';
import { NodeDisk } from '../../peers/node-disk';
import { PeerDirectory } from '../../peers/peer-directory';
import { RoomLogPeers } from './room-log-peers';
import { RoomLogRpcController } from './room-log.rpc.controller';
import { WireRefusal } from './room-log-wire';

describe(RoomLogRpcController.name, () => {
  let sut: RoomLogRpcController;
  let received: [string, string][];
  let otherViews: { peer: string; view: string }[];

  beforeEach(async () => {
    received = [];
    otherViews = [];
    const logs = {
      receive: async (from: string, json: string) => {
        if (json === 'bad') throw new WireRefusal('batch: is not JSON');
        received.push([from, json]);
        return '[["r1",{}]]';
      },
    };
    const moduleRef = await Test.createTestingModule({
      controllers: [RoomLogRpcController],
      providers: [
        { provide: RoomLogPeers, useValue: logs },
        { provide: PeerDirectory, useValue: { otherViews: () => otherViews } },
        { provide: NodeDisk, useValue: { refusal: (peer: string, disk?: string) => (disk === 'replaced-disk' ? `${peer} sent this from a data directory it has since replaced` : null) } },
      ],
    }).compile();
    sut = moduleRef.get(RoomLogRpcController);
  });

  it('hands the sender and its batch to RoomLogPeers and answers with its reply', async () => {
    expect(await sut.roomLog(['node2', '[]'])).toBe('[["r1",{}]]');
    expect(received).toEqual([['node2', '[]']]);
  });

  it('refuses mistyped params and a batch that breaks the rules with -32602', async () => {
    await expect(sut.roomLog(['node2', 5])).rejects.toMatchObject({ code: XmlRpcFaultCode.InvalidParams });
    await expect(sut.roomLog(['node2', 'bad'])).rejects.toMatchObject({ code: XmlRpcFaultCode.InvalidParams, faultString: 'room_log_json: batch: is not JSON' });
    expect(received).toEqual([]);
  });

  it('takes nothing from a peer configured with another list of nodes (-32403)', async () => {
    otherViews = [{ peer: 'node2', view: 'abc' }];
    await expect(sut.roomLog(['node2', '[]'])).rejects.toMatchObject({ code: XmlRpcFaultCode.PeerNotAuthorised });
    expect(await sut.roomLog(['node3', '[]'])).toBe('[["r1",{}]]');
    expect(received).toEqual([['node3', '[]']]);
  });

  it('takes nothing sent from a data directory its sender has since replaced (-32403), and a call that names none', async () => {
    await expect(sut.roomLog(['node2', '[]', 'replaced-disk'])).rejects.toMatchObject({ code: XmlRpcFaultCode.PeerNotAuthorised, faultString: 'room_log_json: node2 sent this from a data directory it has since replaced; not taken' });
    expect(await sut.roomLog(['node2', '[]', 'current-disk'])).toBe('[["r1",{}]]');
    expect(await sut.roomLog(['node3', '[]'])).toBe('[["r1",{}]]');
    expect(received).toEqual([['node2', '[]'], ['node3', '[]']]);
  });
});
