import { randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Row } from './store-rows';

/** One entry of a room's log as stored (the consensus core's Entry, structurally). */
export interface LogEntryRecord {
  index: number;
  epoch: number;
  kind: string;
  sequence: number;
  clientKey: string | null;
  data: unknown;
}

/** A room's replication state on this node: the core's hard state, how far it was applied, and the host it last knew. */
export interface RoomLogState {
  roomId: string;
  epoch: number;
  vote: string | null;
  commit: number;
  applied: number;
  learner: boolean;
  hostNode: string | null;
  hostEpoch: number;
}

/** This database's identity, and whether it is new to the cluster as far as this node knows. */
export interface DiskIdentity {
  diskId: string;
  /** It does not know yet whether the cluster knew this node with another disk: created in this run, or in one that stopped before it knew. */
  fresh: boolean;
  /** It came back to a cluster that knew this node with another disk: rooms it learns start as learners. */
  rejoining: boolean;
}

export interface PeerDisk {
  nodeId: string;
  diskId: string;
  /** The disk it had before, when it came back with a new one. */
  replacedDiskId: string | null;
}

const toEntry = (r: Row): LogEntryRecord => ({
  index: Number(r.idx),
  epoch: Number(r.epoch),
  kind: r.kind as string,
  sequence: Number(r.sequence),
  clientKey: (r.client_key as string | null) ?? null,
  data: r.data === null || r.data === undefined ? null : JSON.parse(r.data as string),
});

const toState = (r: Row): RoomLogState => ({
  roomId: r.room_id as string,
  epoch: Number(r.epoch),
  vote: (r.vote as string | null) ?? null,
  commit: Number(r.commit_index),
  applied: Number(r.applied_index),
  learner: Number(r.learner) === 1,
  hostNode: (r.host_node as string | null) ?? null,
  hostEpoch: Number(r.host_epoch),
});

/**
 * Rooms' replicated logs on disk (room_logs, log_entries) and the node's disk identity. Writes
 * run inside the caller's transaction (StoreTransactions), so a Ready's hard state, entries and applied
 * state change together.
 */
export class RoomLogRepository {
  private readonly sql: Record<string, StatementSync>;

  constructor(db: DatabaseSync) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      state: p('SELECT * FROM room_logs WHERE room_id = ?'),
      saveState: p(`INSERT INTO room_logs (room_id, epoch, vote, commit_index, applied_index, learner, host_node, host_epoch)
        VALUES (@roomId, @epoch, @vote, @commit, @applied, @learner, @hostNode, @hostEpoch)
        ON CONFLICT(room_id) DO UPDATE SET epoch = excluded.epoch, vote = excluded.vote, commit_index = excluded.commit_index,
          applied_index = excluded.applied_index, learner = excluded.learner, host_node = excluded.host_node, host_epoch = excluded.host_epoch`),
      roomsHostedBy: p('SELECT room_id FROM room_logs WHERE host_node = ?'),
      allRooms: p('SELECT room_id FROM room_logs'),
      lastIndex: p('SELECT max(idx) AS last FROM log_entries WHERE room_id = ?'),
      entry: p('SELECT * FROM log_entries WHERE room_id = ? AND idx = ?'),
      entries: p('SELECT * FROM log_entries WHERE room_id = ? AND idx >= ? AND idx <= ? ORDER BY idx LIMIT ?'),
      byClientKey: p('SELECT * FROM log_entries WHERE room_id = ? AND client_key = ?'),
      lastWithEpochAtMost: p('SELECT max(idx) AS idx FROM log_entries WHERE room_id = ? AND idx <= ? AND epoch <= ?'),
      ofKind: p('SELECT * FROM log_entries WHERE room_id = ? AND kind = ? ORDER BY idx'),
      truncate: p('DELETE FROM log_entries WHERE room_id = ? AND idx >= ?'),
      insert: p(`INSERT INTO log_entries (room_id, idx, epoch, kind, sequence, client_key, data)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      // the payload keeps message_id, username, timestamp and client_message_id; content goes (entries stripped before are left alone)
      stripMessages: p(`UPDATE log_entries SET data = json_object('message_id', json_extract(data, '$.message_id'), 'username', json_extract(data, '$.username'),
          'timestamp', json_extract(data, '$.timestamp'), 'client_message_id', json_extract(data, '$.client_message_id'), 'trimmed', json('true'))
        WHERE room_id = ? AND idx < ? AND kind = 'message' AND sequence < ? AND json_extract(data, '$.content') IS NOT NULL`),
      // an edit's entry keeps which message and when, its new text goes
      stripEdits: p(`UPDATE log_entries SET data = json_object('message_id', json_extract(data, '$.message_id'), 'sequence_number', json_extract(data, '$.sequence_number'),
          'username', json_extract(data, '$.username'), 'edited_at', json_extract(data, '$.edited_at'), 'trimmed', json('true'))
        WHERE room_id = ? AND idx < ? AND kind = 'message_edited' AND json_extract(data, '$.sequence_number') BETWEEN ? AND ? AND json_extract(data, '$.content') IS NOT NULL`),
      stripMessageAt: p(`UPDATE log_entries SET data = json_object('message_id', json_extract(data, '$.message_id'), 'username', json_extract(data, '$.username'),
          'timestamp', json_extract(data, '$.timestamp'), 'client_message_id', json_extract(data, '$.client_message_id'), 'trimmed', json('true'), 'deleted_at', ?)
        WHERE room_id = ? AND idx < ? AND kind = 'message' AND sequence = ? AND json_extract(data, '$.content') IS NOT NULL`),
      dropEntries: p('DELETE FROM log_entries WHERE room_id = ?'),
      dropState: p('DELETE FROM room_logs WHERE room_id = ?'),
      disk: p('SELECT * FROM node_disk LIMIT 1'),
      newDisk: p('INSERT INTO node_disk (disk_id, created_at, rejoining, deciding) VALUES (?, ?, 0, ?)'),
      setRejoining: p('UPDATE node_disk SET rejoining = ?'),
      setDecided: p('UPDATE node_disk SET deciding = 0'),
      peerDisks: p('SELECT * FROM peer_disks'),
      rememberPeerDisk: p(`INSERT INTO peer_disks (node_id, disk_id, replaced_disk_id) VALUES (?, ?, NULL)
        ON CONFLICT(node_id) DO UPDATE SET replaced_disk_id = CASE WHEN peer_disks.disk_id = excluded.disk_id THEN peer_disks.replaced_disk_id ELSE peer_disks.disk_id END,
          disk_id = excluded.disk_id`),
    };
  }

  state(roomId: string): RoomLogState | null {
    const row = this.sql.state.get(roomId) as Row | undefined;
    return row ? toState(row) : null;
  }
  saveState(s: RoomLogState): void {
    this.sql.saveState.run({ ...s, learner: s.learner ? 1 : 0 });
  }
  /** Rooms whose last known host is `node` (they need an election when it is lost). */
  roomsHostedBy(node: string): string[] {
    return (this.sql.roomsHostedBy.all(node) as Row[]).map((r) => r.room_id as string);
  }
  allRooms(): string[] {
    return (this.sql.allRooms.all() as Row[]).map((r) => r.room_id as string);
  }

  lastIndex(roomId: string): number {
    return Number((this.sql.lastIndex.get(roomId) as Row).last ?? 0);
  }
  entry(roomId: string, index: number): LogEntryRecord | undefined {
    const row = this.sql.entry.get(roomId, index) as Row | undefined;
    return row ? toEntry(row) : undefined;
  }
  /** Entries `from`..`to`, stopping after about `maxBytes` of payload (at least one). */
  entries(roomId: string, from: number, to: number, maxBytes: number): LogEntryRecord[] {
    const out: LogEntryRecord[] = [];
    let bytes = 0;
    for (const row of this.sql.entries.all(roomId, from, to, Math.max(1, Math.min(to - from + 1, 10_000))) as Row[]) {
      bytes += 64 + ((row.data as string | null)?.length ?? 0);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(toEntry(row));
    }
    return out;
  }
  findByClientKey(roomId: string, clientKey: string): LogEntryRecord | undefined {
    const row = this.sql.byClientKey.get(roomId, clientKey) as Row | undefined;
    return row ? toEntry(row) : undefined;
  }
  lastIndexWithEpochAtMost(roomId: string, atOrBelow: number, epoch: number): number {
    return Number((this.sql.lastWithEpochAtMost.get(roomId, atOrBelow, epoch) as Row).idx ?? 0);
  }

  /** The room's stored entries of one kind (a few: its deletions, say). */
  entriesOfKind(roomId: string, kind: string): LogEntryRecord[] {
    return (this.sql.ofKind.all(roomId, kind) as Row[]).map(toEntry);
  }

  /** Drops the entries from `from` on, then stores `entries` (a follower replacing a conflicting tail, or new ones). */
  replaceFrom(roomId: string, from: number, entries: readonly LogEntryRecord[]): void {
    this.sql.truncate.run(roomId, from);
    for (const e of entries) this.sql.insert.run(roomId, e.index, e.epoch, e.kind, e.sequence, e.clientKey, e.data === null || e.data === undefined ? null : JSON.stringify(e.data));
  }

  /**
   * Retention: the content of the room's message entries below `beforeSequence` (and below the trim
   * entry at `belowIndex`, so only committed ones) goes; each keeps its index, epoch, kind, sequence,
   * client key and a small payload (room-entries.ts, TrimmedMessageData). Returns how many were stripped now.
   */
  stripMessagesBefore(roomId: string, beforeSequence: number, belowIndex: number): number {
    this.sql.stripEdits.run(roomId, belowIndex, 1, beforeSequence - 1);
    return Number(this.sql.stripMessages.run(roomId, belowIndex, beforeSequence).changes);
  }

  /**
   * A deleted message: its entry and its edits' entries (all below the deletion's entry at
   * `belowIndex`, so committed and applied) lose their text, as retention strips them; the
   * message's entry keeps `deleted_at`, so a node catching up from it stores the tombstone (LogApplier).
   */
  stripMessageAt(roomId: string, sequence: number, belowIndex: number, deletedAt: string): void {
    this.sql.stripEdits.run(roomId, belowIndex, sequence, sequence);
    this.sql.stripMessageAt.run(deletedAt, roomId, belowIndex, sequence);
  }

  /** The room was deleted: its log and state go (its tombstone stays). */
  drop(roomId: string): void {
    this.sql.dropEntries.run(roomId);
    this.sql.dropState.run(roomId);
  }

  /**
   * This database's identity, made at first start; `created`: the database was created in this
   * run. Such a disk stays fresh across restarts until setDecided().
   */
  diskIdentity(created: boolean, now: string): DiskIdentity {
    let row = this.sql.disk.get() as Row | undefined;
    if (!row) {
      this.sql.newDisk.run(randomUUID(), now, created ? 1 : 0);
      row = this.sql.disk.get() as Row;
    }
    return { diskId: row.disk_id as string, fresh: created || Number(row.deciding) === 1, rejoining: Number(row.rejoining) === 1 };
  }
  /** A fresh disk knows whether the cluster knew this node with another disk (after setRejoining, when it did). */
  setDecided(): void {
    this.sql.setDecided.run();
  }
  setRejoining(rejoining: boolean): void {
    this.sql.setRejoining.run(rejoining ? 1 : 0);
  }
  peerDisks(): PeerDisk[] {
    return (this.sql.peerDisks.all() as Row[]).map((r) => ({ nodeId: r.node_id as string, diskId: r.disk_id as string, replacedDiskId: (r.replaced_disk_id as string | null) ?? null }));
  }
  /** Remembers `node`'s disk; a different one than before keeps the old one as replaced. */
  rememberPeerDisk(node: string, diskId: string): void {
    this.sql.rememberPeerDisk.run(node, diskId);
  }
}
