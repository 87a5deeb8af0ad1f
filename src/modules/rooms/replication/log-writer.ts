import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { StoreTransactions } from '../../../common/store/store-transactions';
import type { Leadership, Ready } from '../consensus/core-types';
import type { LogPosition } from '../consensus/log-entry';
import type { RoomMessage } from '../consensus/room-messages';
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

/** What a written round still owes the cores once its write is on disk. */
interface AwaitingDisk {
  /** The round's number (rounds are written in order; a sync covers every round committed before it began). */
  round: number;
  /** The round stored entries or a changed epoch, vote or learner flag: someone must sync it. */
  needsSync: boolean;
  rooms: { room: LoadedRoom; mark: LogPosition | null; afterPersist: readonly RoomMessage[] }[];
}

/**
 * Writes what the rooms' cores want stored, all rooms of one event-loop turn in one transaction,
 * and syncs those transactions to disk by group commit: the commit itself is not fsynced; one
 * fdatasync of the write-ahead log runs in the thread pool at a time, and every round committed
 * while it runs shares the next one. Messages that do not depend on the write (a host's appends,
 * Raft's "replicate while the host writes") go at once; an answer that says something is stored
 * (an append's result, a vote), and telling the core what is stored, wait until the sync that
 * covers it ended. Committed entries (on a majority's disks already) reach clients at once.
 */
@Injectable()
export class LogWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(LogWriter.name);
  private readonly queued = new Map<string, LoadedRoom>();
  private flushScheduled = false;
  /** Callers of flushSoon, told once the next round's write is on disk and its answers are out. */
  private flushWaiters: (() => void)[] = [];
  private written: Written = () => undefined;
  private gone: Gone = () => undefined;
  /** The node is stopping: the store closes once the application has, and nothing is written after. */
  private stopped = false;
  /** Rounds written so far. */
  private round = 0;
  /** Written rounds waiting for the disk, oldest first. */
  private readonly awaiting: AwaitingDisk[] = [];
  /** Waiters of flushSoon by the round they wait for. */
  private readonly roundWaiters: { round: number; resolve: () => void }[] = [];
  private syncing = false;

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
    this.awaiting.length = 0;
    for (const w of this.roundWaiters.splice(0)) w.resolve();
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
    this.scheduleFlush();
  }

  /** Resolves once everything queued so far is on disk and the answers it allows are sent. */
  flushSoon(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.flushWaiters.push(resolve);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    try {
      // one write per turn: what the cores want next (applying what this write committed, say) waits
      // for the next turn and shares its write with whatever new entries arrive meanwhile
      if (this.queued.size > 0 && !this.stopped) this.writeRound();
      if (this.queued.size > 0) this.scheduleFlush();
    } catch (e) {
      this.logger.error(`Writing room logs failed: ${(e as Error)?.stack ?? e}`);
    } finally {
      for (const resolve of waiters) this.whenReleased(this.round, resolve);
    }
  }

  private writeRound(): void {
    const rooms = [...this.queued.values()].filter((r) => r.core.hasReady());
    this.queued.clear();
    const readies = rooms.map((room) => ({ room, ready: room.core.ready(), was: room.leadership, previousHost: room.lastHost }));
    const deleted: string[] = [];
    const needsSync = readies.some(({ room, ready }) => ready.persist !== null || room.mustSync(ready.hardState));
    try {
      this.transactions.run(() => {
        for (const { room, ready } of readies) if (this.write(room, ready)) deleted.push(room.roomId);
      }, false);
    } catch (e) {
      // nothing of this round is on disk: the cores start again from what is (as after a crash)
      if (!(e instanceof ChatError && e.code === 'STORE_UNAVAILABLE')) this.logger.error(`Room log write failed: ${(e as Error)?.stack ?? e}`);
      this.logger.debug(`${readies.length} room(s) reload from disk after a failed write`);
      for (const { room } of readies) this.gone(room.roomId, 'not-stored');
      // a reloaded core takes what it reads as stored: the rounds committed before this one reach the disk before it acts
      this.syncAllNow();
      return;
    }
    const round = ++this.round;
    const held: AwaitingDisk['rooms'] = [];
    for (const { room, ready, was, previousHost } of readies) {
      if (ready.hardState) room.written = ready.hardState;
      for (const m of ready.messages) this.outbox.send([room.roomId, m]);
      if (ready.mark || ready.afterPersist.length > 0) held.push({ room, mark: ready.mark, afterPersist: ready.afterPersist });
      room.waits.committed(ready.committed);
      if (!deleted.includes(room.roomId)) this.written(room, ready.leadership ? { now: ready.leadership, was, previousHost } : null);
    }
    for (const roomId of deleted) this.gone(roomId, 'deleted');
    if (held.length > 0 || needsSync) this.awaiting.push({ round, needsSync, rooms: held });
    this.releaseStored();
    this.syncIfNeeded();
  }

  /** Every round written so far onto the disk before going on (a blocking fdatasync), and their answers out. */
  private syncAllNow(): void {
    if (!this.awaiting.some((a) => a.needsSync)) return;
    try {
      this.transactions.syncCommittedNow();
    } catch (error) {
      this.syncFailed(error as Error);
    }
    for (const a of this.awaiting) a.needsSync = false;
    this.releaseStored();
  }

  private syncFailed(error: Error): never {
    // the kernel may have dropped pages it could not write, and a retry would report success:
    // like PostgreSQL, stop rather than answer for what may not be on disk; a restart recovers from it
    this.logger.fatal(`Syncing the room logs to disk failed: ${error.message}; stopping`);
    process.exit(70);
  }

  /** Starts the next group sync: it covers every round written so far. */
  private syncIfNeeded(): void {
    if (this.syncing || this.stopped || !this.awaiting.some((a) => a.needsSync)) return;
    this.syncing = true;
    const upTo = this.round;
    this.transactions.syncCommitted((error) => {
      this.syncing = false;
      if (this.stopped) return;
      if (error) this.syncFailed(error);
      for (const a of this.awaiting) if (a.round <= upTo) a.needsSync = false;
      this.releaseStored();
      this.syncIfNeeded();
    });
  }

  /** Rounds whose write is on disk, in order, up to the first that is not yet: the cores hear so and their answers go. */
  private releaseStored(): void {
    while (this.awaiting.length > 0 && !this.awaiting[0].needsSync) {
      for (const { room, mark, afterPersist } of this.awaiting.shift()!.rooms) {
        room.core.persisted(mark);
        for (const m of afterPersist) this.outbox.send([room.roomId, m]);
        this.written(room, null); // what the core wants next (commit, apply, more appends) is queued
      }
    }
    const releasedUpTo = this.awaiting.length > 0 ? this.awaiting[0].round - 1 : this.round;
    while (this.roundWaiters.length > 0 && this.roundWaiters[0].round <= releasedUpTo) this.roundWaiters.shift()!.resolve();
  }

  private whenReleased(round: number, resolve: () => void): void {
    const releasedUpTo = this.awaiting.length > 0 ? this.awaiting[0].round - 1 : this.round;
    if (this.stopped || round <= releasedUpTo) return resolve();
    this.roundWaiters.push({ round, resolve });
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
