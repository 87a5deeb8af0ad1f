import { Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadConfig } from '../../../common/config/load-config';
import { ChatStore } from '../../../common/store/chat-store';
import { roomRecord } from '../../../testing/records';
import type { PeerDirectory } from '../../peers/peer-directory';
import { ClaimGrants } from './claim-grants';

/** How this voter (node2) sees the other nodes: configured peers node1 and node3, some suspected or failed. */
class VoterView {
  readonly suspected = new Set<string>();
  readonly failed = new Set<string>();
  has = (id: string) => id === 'node1' || id === 'node3';
  isSuspected = (id: string) => this.suspected.has(id);
  isFailed = (id: string) => this.failed.has(id);
}

describe(ClaimGrants.name, () => {
  const config = loadConfig({ NODE_ID: 'node2' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'claim-grants-spec-'));
  let store: ChatStore;
  let view: VoterView;
  let sut: ClaimGrants;

  beforeAll(() => Logger.overrideLogger(false));
  // left to the OS tmp cleaner: a file store's WAL checkpointer worker still opens the file after
  // close() returns, and removing the directory under it makes the worker fail noisily

  beforeEach(() => {
    store = ChatStore.inMemory();
    view = new VoterView();
    sut = new ClaimGrants(config, store, view as unknown as PeerDirectory);
    // room r1 hosted by node1 at epoch 1; this node holds 7 messages of it
    store.insertRoom(roomRecord({ hostNode: 'node1', lastSequence: 7 }));
  });

  afterEach(() => store.close());

  it('grants the next epoch to a candidate once the host does not answer here either, reporting its copy', () => {
    view.suspected.add('node1');
    expect(sut.answer('r1', 2, 'node3')).toEqual({
      granted: true,
      node_id: 'node2',
      log_epoch: 1,
      last_sequence: 7,
      host_node: 'node1',
      host_epoch: 1,
      promised_epoch: 2,
    });
    expect(store.getRoom('r1')).toMatchObject({ promisedEpoch: 2, hostNode: 'node1', hostEpoch: 1 }); // a promise, not a new host yet
  });

  it('grants when the host is known failed (heartbeats), not only suspected', () => {
    view.failed.add('node1');
    expect(sut.answer('r1', 2, 'node3').granted).toBe(true);
  });

  it('grants each epoch once: a second candidate, or the same one again, is refused', () => {
    view.suspected.add('node1');
    expect(sut.answer('r1', 2, 'node3').granted).toBe(true);
    expect(sut.answer('r1', 2, 'node3')).toMatchObject({ granted: false, promised_epoch: 2, reason: 'epoch 2 was already promised' });
    expect(sut.answer('r1', 1, 'node3')).toMatchObject({ granted: false, reason: 'epoch 2 was already promised' });
    expect(sut.answer('r1', 3, 'node3').granted).toBe(true); // a later attempt asks for a newer epoch
  });

  it('keeps its promise across a restart (it is in chat.db before the grant is answered)', () => {
    store.close();
    store = ChatStore.open(dir);
    store.insertRoom(roomRecord({ hostNode: 'node1', lastSequence: 7 }));
    view.suspected.add('node1');
    expect(new ClaimGrants(config, store, view as unknown as PeerDirectory).answer('r1', 2, 'node3').granted).toBe(true);
    const onDisk = new DatabaseSync(store.file, { readOnly: true });
    try {
      expect(onDisk.prepare('SELECT promised_epoch FROM rooms WHERE room_id = ?').get('r1')).toEqual({ promised_epoch: 2 });
    } finally {
      onDisk.close();
    }
    store.close();

    store = ChatStore.open(dir);
    const restarted = new ClaimGrants(config, store, view as unknown as PeerDirectory);
    expect(restarted.answer('r1', 2, 'node1')).toMatchObject({ granted: false, reason: 'epoch 2 was already promised' });
  });

  it('refuses while the host still answers this node, and promises nothing', () => {
    expect(sut.answer('r1', 2, 'node3')).toMatchObject({ granted: false, host_node: 'node1', host_epoch: 1, promised_epoch: 1, reason: 'the host node1 still answers node2' });
    expect(store.getRoom('r1')?.promisedEpoch).toBe(1);
  });

  it('grants the host itself its next epoch (back from a restart, it re-claims its rooms before serving)', () => {
    expect(sut.answer('r1', 2, 'node1')).toMatchObject({ granted: true, promised_epoch: 2 });
  });

  it('refuses when this node is the host and alive (it answers the claim)', () => {
    store.insertRoom(roomRecord({ roomId: 'mine', roomName: 'mine', hostNode: 'node2', hostEpoch: 3, promisedEpoch: 3, logEpoch: 3 }));
    expect(sut.answer('mine', 4, 'node1')).toMatchObject({ granted: false, host_node: 'node2', reason: 'node2 hosts the room and is alive' });
    expect(store.getRoom('mine')?.promisedEpoch).toBe(3);
  });

  it('reports a deleted room (tombstone) so the candidate drops its copy instead of reviving it', () => {
    store.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: '2026-01-02T00:00:00.000Z', transactionId: 'txn-1' });
    view.suspected.add('node1');
    expect(sut.answer('r1', 2, 'node3')).toMatchObject({ granted: false, deleted: true, reason: 'the room was deleted' });
  });

  it('refuses a room it never heard of, without claiming it was deleted', () => {
    expect(sut.answer('nope', 2, 'node3')).toMatchObject({ granted: false, deleted: false, reason: 'this node does not know the room' });
    expect(store.getRoom('nope')).toBeNull();
  });
});
