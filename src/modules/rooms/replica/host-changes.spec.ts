import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { roomRecord } from '../../../testing/records';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory, type PeerStatusListener } from '../../peers/peer-directory';
import { RoomHostService } from '../host/room-host.service';
import { HostChanges, type HostChangeListener } from './host-changes';

/** What HostChanges asked of the rest of the node. */
class Recorder {
  readonly listeners: PeerStatusListener[] = [];
  readonly stopped: unknown[][] = [];
  readonly broadcasts: unknown[][] = [];
  readonly serving = new Set<string>();
  /** Rooms whose queued events were taken out of the outboxes, with the epoch below which they went. */
  readonly discarded: [string, number | undefined][] = [];
  readonly peers = {
    subscribe: (l: PeerStatusListener) => this.listeners.push(l),
    discardRoom: (roomId: string, belowEpoch?: number) => void this.discarded.push([roomId, belowEpoch]),
  };
  readonly host = {
    isServing: (roomId: string) => this.serving.has(roomId),
    stopServing: (roomId: string, moved: unknown) => {
      this.serving.delete(roomId);
      this.stopped.push([roomId, moved]);
    },
  };
  readonly clients = { broadcast: (...args: unknown[]) => this.broadcasts.push(args) };
}

describe(HostChanges.name, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let node: Recorder;
  let told: unknown[][];
  let sut: HostChanges;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    node = new Recorder();
    moduleRef = await Test.createTestingModule({
      providers: [
        HostChanges,
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1' }) },
        { provide: CHAT_STORE, useValue: store },
        { provide: PeerDirectory, useValue: node.peers },
        { provide: RoomHostService, useValue: node.host },
        { provide: ClientRegistry, useValue: node.clients },
      ],
    }).compile();
    await moduleRef.init();
    sut = moduleRef.get(HostChanges);
    told = [];
    const listener: HostChangeListener = { onHostChanged: (...args) => void told.push(args) };
    sut.subscribe(listener);
    // 'theirs': a replica of node2's room at epoch 1; 'mine': hosted and served here at epoch 1
    store.insertRoom(roomRecord({ roomId: 'theirs', roomName: 'theirs', hostNode: 'node2', logEpoch: 1 }));
    store.insertRoom(roomRecord({ roomId: 'mine', roomName: 'mine', hostNode: 'node1' }));
    node.serving.add('mine');
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  it('listens to the peer directory (stale-epoch refusals of its replication)', () => {
    expect(node.listeners).toEqual([sut]);
  });

  describe('follow', () => {
    it('records a newer host and tells local members (room_host_changed); the copy keeps its log epoch until aligned', () => {
      expect(sut.follow('theirs', 'node3', 2, 8)).toBe(true);
      expect(store.getRoom('theirs')).toMatchObject({ hostNode: 'node3', hostEpoch: 2, promisedEpoch: 2, epochStart: 8, logEpoch: 1 });
      expect(node.broadcasts).toEqual([['theirs', 'room_host_changed', { room_id: 'theirs', admin_node: 'node3', host_epoch: 2 }]]);
      expect(node.stopped).toEqual([]);
      expect(told).toEqual([['theirs', 'node2', false]]);
    });

    it('steps down when this node was the host: it stops serving, naming the new host', () => {
      expect(sut.follow('mine', 'node2', 2, 4)).toBe(true);
      expect(node.stopped).toEqual([['mine', { adminNode: 'node2', hostEpoch: 2 }]]);
      expect(store.getRoom('mine')).toMatchObject({ hostNode: 'node2', hostEpoch: 2, epochStart: 4 });
      expect(told).toEqual([['mine', 'node1', true]]);
      expect(node.broadcasts).toEqual([['mine', 'room_host_changed', { room_id: 'mine', admin_node: 'node2', host_epoch: 2 }]]);
    });

    it('ignores what is not newer: the same or an older epoch, an epoch below its promise, itself, an unknown room', () => {
      store.setEpochs('theirs', { hostNode: 'node2', hostEpoch: 2, promisedEpoch: 4, epochStart: 1, logEpoch: 2 });
      expect(sut.follow('theirs', 'node3', 2, 1)).toBe(false);
      expect(sut.follow('theirs', 'node3', 1, 1)).toBe(false);
      expect(sut.follow('theirs', 'node3', 3, 1)).toBe(false); // epoch 4 was promised: 3 lost its election
      expect(sut.follow('theirs', 'node1', 5, 1)).toBe(false); // only a claim makes this node a host
      expect(sut.follow('nope', 'node3', 5, 1)).toBe(false);
      expect(store.getRoom('theirs')).toMatchObject({ hostNode: 'node2', hostEpoch: 2, promisedEpoch: 4 });
      expect(node.broadcasts).toEqual([]);
      expect(told).toEqual([]);
    });

    it('follows the epoch it promised (its candidate won)', () => {
      store.setEpochs('theirs', { hostNode: 'node2', hostEpoch: 1, promisedEpoch: 2, epochStart: 1, logEpoch: 1 });
      expect(sut.follow('theirs', 'node3', 2, 6)).toBe(true);
    });

    it('learns the first sequence of the current epoch late without announcing a change', () => {
      sut.follow('theirs', 'node3', 2, 1);
      node.broadcasts.length = 0;
      expect(sut.follow('theirs', 'node3', 2, 8)).toBe(false);
      expect(store.getRoom('theirs')?.epochStart).toBe(8);
      expect(sut.follow('theirs', 'node3', 2, 5)).toBe(false); // never moves back
      expect(store.getRoom('theirs')?.epochStart).toBe(8);
      expect(node.broadcasts).toEqual([]);
    });
  });

  describe('onStaleEpoch (a peer refused this node as a stale host)', () => {
    it('takes the refused events (older than the promised epoch) out of the outboxes, so they do not block the ones behind them', () => {
      sut.onStaleEpoch({ roomId: 'mine', hostNode: 'node1', hostEpoch: 1, promisedEpoch: 2 }, 'node2');
      sut.onStaleEpoch({ roomId: 'mine', hostNode: 'node3', hostEpoch: 3, promisedEpoch: 3 }, 'node2');
      expect(node.discarded).toEqual([
        ['mine', 2],
        ['mine', 3],
      ]);
    });

    it('follows the newer host the refusal names, stepping down', () => {
      sut.onStaleEpoch({ roomId: 'mine', hostNode: 'node3', hostEpoch: 2, promisedEpoch: 2 }, 'node2');
      expect(store.getRoom('mine')).toMatchObject({ hostNode: 'node3', hostEpoch: 2 });
      expect(node.stopped).toEqual([['mine', { adminNode: 'node3', hostEpoch: 2 }]]);
      expect(node.broadcasts).toEqual([['mine', 'room_host_changed', { room_id: 'mine', admin_node: 'node3', host_epoch: 2 }]]);
    });

    it('with only a newer promise (no host known yet) stops serving and waits for a claim, keeping the room as hosted here', () => {
      sut.onStaleEpoch({ roomId: 'mine', hostNode: 'node1', hostEpoch: 1, promisedEpoch: 2 }, 'node2');
      expect(store.getRoom('mine')).toMatchObject({ hostNode: 'node1', hostEpoch: 1, promisedEpoch: 2 });
      expect(node.stopped).toEqual([['mine', { adminNode: 'node1', hostEpoch: 1 }]]);
      expect(node.broadcasts).toEqual([]);
    });

    it('changes nothing for a refusal that is not newer than what it knows', () => {
      store.setEpochs('mine', { hostNode: 'node1', hostEpoch: 1, promisedEpoch: 3, epochStart: 1, logEpoch: 1 });
      sut.onStaleEpoch({ roomId: 'mine', hostNode: 'node1', hostEpoch: 1, promisedEpoch: 2 }, 'node2');
      sut.onStaleEpoch({ roomId: 'nope', hostNode: 'node3', hostEpoch: 9, promisedEpoch: 9 }, 'node2');
      expect(store.getRoom('mine')?.promisedEpoch).toBe(3);
      expect(node.stopped).toEqual([]);
    });

    it('a replica told of a newer promise records it without stopping anything', () => {
      sut.onStaleEpoch({ roomId: 'theirs', hostNode: 'node2', hostEpoch: 1, promisedEpoch: 2 }, 'node3');
      expect(store.getRoom('theirs')?.promisedEpoch).toBe(2);
      expect(node.stopped).toEqual([]);
    });
  });
});
