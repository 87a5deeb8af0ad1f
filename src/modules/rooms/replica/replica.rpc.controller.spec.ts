import { Test } from '@nestjs/testing';
import { XmlRpcContext, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { ReferenceBroadcasts } from './reference-broadcasts';
import { ReplicaRpcController } from './replica.rpc.controller';
import { RoomDeletionParticipant } from './room-deletion.participant';

/** A fake with methods `names` that record which was called, with what. */
const recorder = (calls: unknown[][], names: string[]) =>
  Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => (calls.push([name, ...args]), name === 'message' ? Promise.resolve(true) : true)]));
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
        { provide: ReferenceBroadcasts, useValue: recorder(calls, ['message', 'memberEvent']) },
        { provide: RoomDeletionParticipant, useValue: recorder(calls, ['prepare', 'commit', 'rollback']) },
      ],
    }).compile();
    sut = moduleRef.get(ReplicaRpcController);
  });

  it('hands the signer along with the checked params to one service call', async () => {
    await sut.receiveMessageBroadcast(['r1', message], signedBy('node1'));
    sut.receiveMemberEventBroadcast(['r1', 'member_joined', { room_id: 'r1', username: 'bob', member_count: 1, timestamp: 't' }], signedBy('node1'));
    sut.prepareDeleteRoom(['r1', 'txn', 'node1']);
    sut.prepareDeleteRoom(['r1', 'txn', 'node1', 'alice', 2]); // a host epoch from an older node is accepted and not needed
    sut.commitDeleteRoom(['r1', 'txn'], signedBy('node1'));
    sut.commitDeleteRoom(['r1', 'txn', 'general', 2], signedBy('node1'));
    sut.rollbackDeleteRoom(['r1', 'txn'], signedBy(null));
    expect(calls).toEqual([
      ['message', 'r1', message, 'node1'],
      ['memberEvent', 'r1', 'member_joined', { room_id: 'r1', username: 'bob', member_count: 1, timestamp: 't' }, 'node1'],
      ['prepare', 'r1', 'txn', 'node1', undefined],
      ['prepare', 'r1', 'txn', 'node1', 'alice'],
      ['commit', 'r1', 'txn', null, 'node1'],
      ['commit', 'r1', 'txn', 'general', 'node1'],
      ['rollback', 'r1', 'txn', null],
    ]);
  });

  it('refuses a broadcast message of another room, or one that is no ChatMessage, with -32602', async () => {
    await expect(sut.receiveMessageBroadcast(['r2', message], signedBy('node1'))).rejects.toMatchObject({ code: XmlRpcFaultCode.InvalidParams });
    await expect(sut.receiveMessageBroadcast(['r1', { ...message, sequence_number: 0 }], signedBy('node1'))).rejects.toMatchObject({ code: XmlRpcFaultCode.InvalidParams });
    expect(() => sut.commitDeleteRoom(['r1'], signedBy('node1'))).toThrow(expect.objectContaining({ code: XmlRpcFaultCode.InvalidParams }));
    expect(calls).toEqual([]);
  });
});
