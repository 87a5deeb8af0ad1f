import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../common/config/load-config';
import type { RoomRecord } from '../../../common/store/chat-records';
import { ChatStore } from '../../../common/store/chat-store';
import { XmlRpcFaultCode } from '../../../common/xmlrpc';
import { FakeClock } from '../../../testing/fakes';
import { roomRecord } from '../../../testing/records';
import { PeerEventRefused, RoomHostAuthority } from './room-host-authority';

const room = (roomId: string, hostNode: string): RoomRecord => roomRecord({ roomId, roomName: roomId, hostNode });

describe(RoomHostAuthority.name, () => {
  let store: ChatStore;
  let sut: RoomHostAuthority;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    store = ChatStore.inMemory();
    store.rooms.insertRoom(room('mine', 'node1'));
    store.rooms.insertRoom(room('theirs', 'node2')); // a reference node's room: known, with no log here
    store.rooms.insertRoom(room('logged', 'node2')); // a room of our nodes: it has a replicated log here
    store.logs.saveState({ roomId: 'logged', epoch: 1, vote: null, commit: 1, applied: 1, learner: false, hostNode: 'node2', hostEpoch: 1 });
    store.tombstones.deleteRoom({ roomId: 'gone', roomName: 'gone', hostNode: 'node3', deletedAt: 't', transactionId: null });
    sut = new RoomHostAuthority(loadConfig({ NODE_ID: 'node1' }), store.rooms, store.tombstones, store.logs, new FakeClock());
  });
  afterEach(() => store.close());

  it('knows a room\'s host from its copy or its tombstone', () => {
    expect(['mine', 'theirs', 'gone', 'never'].map((id) => sut.knownHost(id))).toEqual(['node1', 'node2', 'node3', undefined]);
  });

  it('lets only the known host change a room through the reference\'s methods, and nobody change a room hosted here', () => {
    expect(sut.refusal('theirs', 'node2')).toBeNull();
    expect(sut.refusal('theirs', 'node3')).toMatch(/hosted by node2, not by node3/);
    expect(sut.refusal('theirs', null)).toBeNull(); // unsigned: the caller is unknown
    expect(sut.refusal('mine', 'node2')).toMatch(/hosted by this node/);
    expect(sut.refusal('mine', null)).toMatch(/hosted by this node/);
    expect(sut.refusal('never', 'node3')).toBeNull();
  });

  it('refuses everyone, even the room\'s host, for a room that has a log: it changes only through the log', () => {
    expect(sut.refusal('logged', 'node2')).toBe('room logged changes only through its replicated log');
    expect(sut.refusal('logged', null)).toMatch(/only through its replicated log/);
  });

  it('check() throws a -32403 fault that says who may change the room', () => {
    expect(() => sut.check('commit_delete_room', 'theirs', 'node2')).not.toThrow();
    let thrown: unknown;
    try {
      sut.check('receive_message_broadcast', 'logged', 'node2');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(PeerEventRefused);
    expect(thrown).toMatchObject({ code: XmlRpcFaultCode.PeerNotAuthorised, faultString: 'peer event refused: room logged changes only through its replicated log. Only a room\'s host may change it.' });
  });
});
