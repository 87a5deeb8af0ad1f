import { Test } from '@nestjs/testing';
import { XmlRpcContext, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { PeerCatchUp } from './peer-catch-up.service';
import { ReferenceBroadcasts } from './reference-broadcasts';
import { ReplicaService } from './replica.service';
import { ReplicaRpcController } from './replica.rpc.controller';
import { RoomDeletionParticipant } from './room-deletion.participant';

/** A fake with methods `names` that record which was called, with what. */
const recorder = (calls: unknown[][], names: string[]) =>
  Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => (calls.push([name, ...args]), name === 'receive' || name === 'message' ? Promise.resolve(true) : true)]));
const signedBy = (peer: string | null) => new XmlRpcContext(['m', {} as never, peer]);
const message = { message_id: 'm1', room_id: 'r1', username: 'alice', content: 'hi', sequence_number: 1, timestamp: 't' };

describe(ReplicaRpcController.name, () => {
  let sut: ReplicaRpcController;
  let calls: unknown[][];

  beforeEach(async () => {
    calls = [];
    const moduleRef = await Test.createTestingModule({
      controllers: [ReplicaRpcController],
      providers: [
        { provide: ReplicaService, useValue: recorder(calls, ['receive']) },
        { provide: PeerCatchUp, useValue: recorder(calls, ['syncFrom']) },
        { provide: ReferenceBroadcasts, useValue: recorder(calls, ['message', 'memberEvent']) },
        { provide: RoomDeletionParticipant, useValue: recorder(calls, ['prepare', 'commit', 'rollback']) },
      ],
    }).compile();
    sut = moduleRef.get(ReplicaRpcController);
  });

  it('hands the signer along with the checked params to one service call', async () => {
    await sut.receiveMessageBroadcast(['r1', message], signedBy('node1'));
    sut.prepareDeleteRoom(['r1', 'txn', 'node1']);
    sut.commitDeleteRoom(['r1', 'txn'], signedBy('node1'));
    sut.rollbackDeleteRoom(['r1', 'txn'], signedBy(null));
    await sut.replicateEventsJson(['node1', '[]']);
    sut.requestSync(['node1']);
    // the 2PC calls may name the coordinator's host epoch (null: a node that names none)
    sut.prepareDeleteRoom(['r1', 'txn', 'node1', 'alice', 2]);
    sut.commitDeleteRoom(['r1', 'txn', 'general', 2], signedBy('node1'));
    sut.rollbackDeleteRoom(['r1', 'txn', 2], signedBy('node1'));
    expect(calls).toEqual([
      ['message', 'r1', message, 'node1'],
      ['prepare', 'r1', 'txn', 'node1', undefined, null],
      ['commit', 'r1', 'txn', null, 'node1', null],
      ['rollback', 'r1', 'txn', null, null],
      ['receive', 'node1', []],
      ['syncFrom', 'node1'],
      ['prepare', 'r1', 'txn', 'node1', 'alice', 2],
      ['commit', 'r1', 'txn', 'general', 'node1', 2],
      ['rollback', 'r1', 'txn', 'node1', 2],
    ]);
  });

  it('refuses a broadcast message of another room, and a malformed replication event, with -32602', async () => {
    await expect(sut.receiveMessageBroadcast(['r2', message], signedBy('node1'))).rejects.toMatchObject({ code: XmlRpcFaultCode.InvalidParams });
    await expect(sut.replicateEvents(['node1', [{ kind: 'message', message: { ...message, sequence_number: 0 } }]])).rejects.toMatchObject({
      code: XmlRpcFaultCode.InvalidParams,
    });
    expect(calls).toEqual([]);
  });
});
