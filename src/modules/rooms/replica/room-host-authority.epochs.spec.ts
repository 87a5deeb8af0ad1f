import { loadConfig } from '../../../common/config/load-config';
import type { ReplicationEvent, RoomWire } from '../../../common/protocol/peer-wire';
import { parseStaleEpoch, StaleEpochRefused } from '../../../common/protocol/stale-epoch';
import { ChatStore } from '../../../common/store/chat-store';
import { XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { FakeClock } from '../../../testing/fakes';
import { roomRecord } from '../../../testing/records';
import { PeerEventRefused, RoomHostAuthority } from './room-host-authority';

/** A room announcement: `host` serves `roomId` at `epoch`. */
const announce = (roomId: string, host: string, epoch: number): ReplicationEvent => ({
  kind: 'room',
  room: { room_id: roomId, room_name: roomId, description: null, creator_id: 'alice', host_node: host, host_epoch: epoch, state: 'ACTIVE', created_at: 't', last_sequence: 0, deletion_txn: null, epoch_start: 1 } as RoomWire,
});
const message = (roomId: string, epoch?: number): ReplicationEvent => ({
  kind: 'message',
  message: { message_id: 'm', room_id: roomId, username: 'alice', content: 'x', sequence_number: 1, timestamp: 't', client_message_id: null },
  ...(epoch === undefined ? {} : { epoch }),
});

describe(`${RoomHostAuthority.name} (host epochs)`, () => {
  let store: ChatStore;
  let sut: RoomHostAuthority;

  beforeEach(() => {
    store = ChatStore.inMemory();
    // 'theirs': hosted by node2 at epoch 2; this node (node1) promised epoch 3 to a candidate
    store.insertRoom(roomRecord({ roomId: 'theirs', roomName: 'theirs', hostNode: 'node2', hostEpoch: 2, promisedEpoch: 3, logEpoch: 2 }));
    // 'mine': hosted here at epoch 2
    store.insertRoom(roomRecord({ roomId: 'mine', roomName: 'mine', hostNode: 'node1', hostEpoch: 2, promisedEpoch: 2, logEpoch: 2 }));
    sut = new RoomHostAuthority(loadConfig({ NODE_ID: 'node1' }), store, new FakeClock());
  });
  afterEach(() => store.close());

  describe('staleEpoch', () => {
    it('refuses an epoch older than the one promised, naming the current host and epochs in a form the caller parses', () => {
      const stale = sut.staleEpoch('theirs', 2);
      expect(stale).toBeInstanceOf(StaleEpochRefused);
      expect(stale).toMatchObject({ code: XmlRpcFaultCode.StaleEpoch, faultString: 'stale host epoch 2 for room theirs: current host node2 epoch 2 promised 3' });
      expect(parseStaleEpoch(stale)).toEqual({ roomId: 'theirs', hostNode: 'node2', hostEpoch: 2, promisedEpoch: 3 });
    });

    it('lets the promised epoch and newer ones through, and callers that name no epoch', () => {
      expect(sut.staleEpoch('theirs', 3)).toBeNull();
      expect(sut.staleEpoch('theirs', 4)).toBeNull();
      expect(sut.staleEpoch('theirs', null)).toBeNull();
      expect(sut.staleEpoch('never-seen', 1)).toBeNull();
    });

    it('refuses an old host acting on a room a later host deleted, naming that host so the caller follows it', () => {
      store.deleteRoom({ roomId: 'gone', roomName: 'gone', hostNode: 'node3', deletedAt: 't', transactionId: 'txn-1' });
      const stale = sut.staleEpoch('gone', 1, 'node2');
      expect(parseStaleEpoch(stale)).toEqual({ roomId: 'gone', hostNode: 'node3', hostEpoch: 2, promisedEpoch: 2 });
      expect(sut.staleEpoch('gone', 1, 'node3')).toBeNull(); // the host that deleted it (its late events are harmless)
      expect(sut.staleEpoch('gone', 1, null)).toBeNull(); // an unsigned caller is nobody in particular
    });

    it('check() throws the stale refusal itself (-32409), before the "who is the host" rule', () => {
      expect(() => sut.check('commit_delete_room', 'theirs', 'node2', 1)).toThrow(StaleEpochRefused);
      expect(() => sut.check('commit_delete_room', 'theirs', 'node2', 3)).not.toThrow();
      expect(() => sut.check('commit_delete_room', 'theirs', 'node3', 3)).toThrow(PeerEventRefused);
    });
  });

  describe('parseStaleEpoch', () => {
    it('reads only the stale-epoch fault in its fixed text', () => {
      expect(parseStaleEpoch(new XmlRpcFault(XmlRpcFaultCode.PeerNotAuthorised, 'stale host epoch 1 for room r: current host n epoch 2 promised 2'))).toBeNull();
      expect(parseStaleEpoch(new XmlRpcFault(XmlRpcFaultCode.StaleEpoch, 'something else'))).toBeNull();
      expect(parseStaleEpoch(new Error('stale host epoch 1 for room r: current host n epoch 2 promised 2'))).toBeNull();
      expect(parseStaleEpoch(new XmlRpcFault(XmlRpcFaultCode.StaleEpoch, 'stale host epoch 1 for room r-9: current host node7 epoch 12 promised 13'))).toEqual({
        roomId: 'r-9',
        hostNode: 'node7',
        hostEpoch: 12,
        promisedEpoch: 13,
      });
    });
  });

  describe('batchRefusal', () => {
    it('returns the stale refusal for an event of an older epoch, refusing the whole batch', () => {
      const refused = sut.batchRefusal('node2', [message('mine-not', 1), message('theirs', 2)]);
      expect(refused).toBeInstanceOf(StaleEpochRefused);
      expect(parseStaleEpoch(refused)).toMatchObject({ roomId: 'theirs', promisedEpoch: 3 });
    });

    it('counts an event that names no epoch (a node before failover) as epoch 1', () => {
      expect(sut.batchRefusal('node2', [message('theirs')])).toBeInstanceOf(StaleEpochRefused);
    });

    it('accepts a new host announcing itself at a newer epoch, and its events after the announcement', () => {
      expect(sut.batchRefusal('node3', [announce('theirs', 'node3', 3), message('theirs', 3)])).toBeNull();
    });

    it('the host cannot hand its room to another node, and an announcement does not let older-epoch events through', () => {
      expect(sut.batchRefusal('node2', [announce('theirs', 'node3', 3)])).toMatch(/its host cannot be changed to node3/);
      expect(sut.batchRefusal('node3', [announce('theirs', 'node3', 3), { kind: 'member', event_type: 'member_joined', event: { room_id: 'theirs' } as never, node_id: 'node2', epoch: 2 }])).toBeInstanceOf(StaleEpochRefused);
    });

    it('refuses an announcement that is not newer, or that names another node than its sender', () => {
      store.setEpochs('theirs', { hostNode: 'node2', hostEpoch: 2, promisedEpoch: 2, epochStart: 1, logEpoch: 2 });
      expect(sut.batchRefusal('node3', [announce('theirs', 'node3', 2)])).toMatch(/hosted by node2, not by node3/);
      expect(sut.batchRefusal('node3', [announce('theirs', 'node4', 3)])).toMatch(/hosted by node2, not by node3/);
    });

    it('nobody announces an epoch this node hosts the room at; a newer one is accepted (this node was replaced)', () => {
      expect(sut.batchRefusal('node2', [announce('mine', 'node2', 2)])).toMatch(/hosted by this node/);
      expect(sut.batchRefusal('node2', [announce('mine', 'node2', 1)])).toBeInstanceOf(StaleEpochRefused);
      expect(sut.batchRefusal('node2', [announce('mine', 'node2', 3)])).toBeNull();
    });
  });
});
