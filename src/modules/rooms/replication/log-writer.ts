import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { StoreTransactions } from '../../../common/store/store-transactions';
import type { Leadership, Ready } from '../consensus/core-types';
import type { LoadedRoom } from './loaded-room';
import { LogApplier } from './log-applier';
import { RoomLogOutbox } from './room-log-outbox';

/** A room's host change, as the writer saw it: now, just before, and the last host known before (null: none). */
export interface LeadershipChange {
  now: Leadership;
  was: Leadership;
  previousHost: { node: string; epoch: number } | null;
}

type Written = (room: LoadedRoom, leadership: LeadershipChange | null) => void;
type Gone = (roomId: string, why: 'deleted' | 'not-stored') => void;

/**
 * Writes what the rooms' cores want stored, all rooms of one event-loop turn in one transaction
 * (one fsync for every append, vote and commit of the turn), then lets their messages go and
 * their committed entries reach clients. An epoch or vote change, or new entries, are fsynced
 * before anyone hears of them; a write that only records progress (commit, applied entries) is
 * not (it is rebuilt from the log after a power cut).
 */
@Injectable()
export class LogWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(LogWriter.name);
  private readonly queued = new Map<string, LoadedRoom>();
  private pending: { promise: Promise<void>; resolve: () => void } | null = null;
  private written: Written = () => undefined;
  private gone: Gone = () => undefined;
  /** The node is stopping: the store closes once the application has, and nothing is written after. */
  private stopped = false;

  constructor(
    private readonly transactions: StoreTransactions,
    private readonly rooms: RoomRepository,
    private readonly storedLogs: RoomLogRepository,
    private readonly applier: LogApplier,
    private readonly outbox: RoomLogOutbox,
  ) {}

  /**
   * What is still queued is not written: as after a crash at this moment, nothing of it was
   * acknowledged or sent (that waits for the write), and the cores start from what is on disk.
   */
  onApplicationShutdown(): void {
    this.stopped = true;
    this.queued.clear();
  }

  onRoomWritten(fn: Written): void {
    this.written = fn;
  }

  /** A room whose log was deleted (its last entry applied), or whose write failed: its core goes (reloaded from disk when next needed). */
  onRoomGone(fn: Gone): void {
    this.gone = fn;
  }

  /** The room has a Ready: it is written in this turn's transaction. */
  queue(room: LoadedRoom): void {
    if (this.stopped) return;
    this.queued.set(room.roomId, room);
    void this.flushSoon();
  }

  /** Resolves once everything queued so far is on disk and its messages are sent. */
  flushSoon(): Promise<void> {
    if (!this.pending) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.pending = { promise, resolve };
      setImmediate(() => this.flush());
    }
    return this.pending.promise;
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = null;
    try {
      // one write per turn: what the cores want next (applying what this write committed, say) waits
      // for the next turn and shares its write with whatever new entries arrive meanwhile
      if (this.queued.size > 0 && !this.stopped) this.writeRound();
      if (this.queued.size > 0) void this.flushSoon();
    } catch (e) {
      this.logger.error(`Writing room logs failed: ${(e as Error)?.stack ?? e}`);
    } finally {
      pending?.resolve();
    }
  }

  private writeRound(): void {
    const rooms = [...this.queued.values()].filter((r) => r.core.hasReady());
    this.queued.clear();
    const readies = rooms.map((room) => ({ room, ready: room.core.ready(), was: room.leadership, previousHost: room.lastHost }));
    const deleted: string[] = [];
    const durable = readies.some(({ room, ready }) => ready.persist !== null || room.mustSync(ready.hardState));
    try {
      this.transactions.run(() => {
        for (const { room, ready } of readies) if (this.write(room, ready)) deleted.push(room.roomId);
      }, durable);
    } catch (e) {
      // nothing of this round is on disk: the cores start again from what is (as after a crash)
      if (!(e instanceof ChatError && e.code === 'STORE_UNAVAILABLE')) this.logger.error(`Room log write failed: ${(e as Error)?.stack ?? e}`);
      this.logger.debug(`${readies.length} room(s) reload from disk after a failed write`);
      for (const { room } of readies) this.gone(room.roomId, 'not-stored');
      return;
    }
    for (const { room, ready, was, previousHost } of readies) {
      if (ready.hardState) room.written = ready.hardState;
      room.core.persisted(ready.mark);
      for (const m of ready.messages) this.outbox.send([room.roomId, m]);
      for (const m of ready.afterPersist) this.outbox.send([room.roomId, m]);
      room.waits.committed(ready.committed);
      if (!deleted.includes(room.roomId)) this.written(room, ready.leadership ? { now: ready.leadership, was, previousHost } : null);
    }
    for (const roomId of deleted) this.gone(roomId, 'deleted');
  }

  /** New entries; a conflicting tail an earlier host wrote (no majority stored it, nobody was shown it) goes first. */
  private storeEntries(room: LoadedRoom, persist: NonNullable<Ready['persist']>): void {
    const stored = this.storedLogs.lastIndex(room.roomId);
    if (persist.from <= stored) {
      const host = room.leadership.leader ?? 'the new host';
      this.logger.warn(`Room ${room.roomId}: dropped ${stored - persist.from + 1} entr${stored === persist.from ? 'y' : 'ies'} from index ${persist.from} that no majority stored (an earlier host wrote them); following ${host}`);
    }
    this.storedLogs.replaceFrom(room.roomId, persist.from, persist.entries);
  }

  /** One room's part of the transaction; true when it applied the room's deletion. */
  private write(room: LoadedRoom, ready: Ready): boolean {
    if (ready.leadership) {
      room.leadership = ready.leadership;
      if (ready.leadership.leader) room.lastHost = { node: ready.leadership.leader, epoch: ready.leadership.epoch };
    }
    if (ready.persist) this.storeEntries(room, ready.persist);
    const host = room.host() ?? { node: room.leadership.leader ?? this.rooms.getRoom(room.roomId)?.hostNode ?? 'unknown', epoch: room.leadership.epoch };
    for (const entry of ready.committed) {
      room.applied = entry.index;
      if (this.applier.apply(room.roomId, entry, host)) return true;
    }
    if (ready.hardState || ready.leadership || ready.committed.length > 0) this.storedLogs.saveState(room.state(ready.hardState));
    if (ready.leadership?.leader) this.rooms.setHost(room.roomId, ready.leadership.leader, ready.leadership.epoch);
    return false;
  }
}
