/**
 * A place in a room's log. The epoch says which host wrote the entry there: two copies that hold
 * the same (epoch, index) hold the same entry and every entry before it (log matching). An index
 * alone cannot promise that once a host has been replaced, because an old host may have written
 * something else at the same index that no majority ever stored.
 */
export interface LogPosition {
  readonly epoch: number;
  readonly index: number;
}

/** Before the first entry. */
export const LOG_ORIGIN: LogPosition = { epoch: 0, index: 0 };

/** Raft's election restriction: the copy whose last entry has the later epoch wins, then the longer one. */
export const atLeastAsUpToDate = (a: LogPosition, b: LogPosition): boolean => a.epoch > b.epoch || (a.epoch === b.epoch && a.index >= b.index);

/** Entry kinds the core writes itself; every other kind is the room's own (a message, a join, ...). */
export const NOOP = 'noop';
/** A learner (a node back with an empty disk) becomes a voter of the room when this entry commits. */
export const PROMOTE = 'promote';
/** The one kind that takes a sequence number: what clients see as `sequence_number`. */
export const MESSAGE = 'message';

export interface PromoteData {
  node: string;
  disk: string;
}

export interface Entry {
  readonly index: number;
  readonly epoch: number;
  readonly kind: string;
  /**
   * The room's message count at this entry: its own sequence number for a message, the last
   * message's for any other kind. Kept on every entry so the next number is known from the last
   * entry alone, even right after a conflicting tail was dropped.
   */
  readonly sequence: number;
  /** `username\0client_message_id` of a message sent with an id: a retry finds the entry by it. */
  readonly clientKey: string | null;
  /** The room's payload (JSON-serialisable); the core never looks inside. */
  readonly data: unknown;
}

/** What a node must have on disk before it answers anything that depends on it. */
export interface HardState {
  /** The highest epoch this node knows of; it never goes back. */
  readonly epoch: number;
  /** Whom this node voted for in `epoch` (null: nobody yet). */
  readonly vote: string | null;
  /** Entries up to here are committed (may lag behind: it only saves work after a restart). */
  readonly commit: number;
  /** A node back with an empty disk neither votes nor counts towards a majority until promoted. */
  readonly learner: boolean;
}

export const EMPTY_HARD_STATE: HardState = { epoch: 0, vote: null, commit: 0, learner: false };

export const positionOf = (e: Entry | undefined): LogPosition => (e ? { epoch: e.epoch, index: e.index } : LOG_ORIGIN);

/**
 * The stored part of one room's log, read synchronously (SQLite here, an array in the simulator).
 * Entries not on disk yet are the core's own (RaftLog); this is everything below them.
 */
export interface StableLog {
  lastIndex(): number;
  /** The entry at `index` (1..lastIndex), or undefined. */
  entry(index: number): Entry | undefined;
  /** Entries `from`..`to` in order, stopping early after `maxBytes` (at least one when from <= to). */
  entries(from: number, to: number, maxBytes: number): Entry[];
  /** The entry written for this client key, if any. */
  findByClientKey(clientKey: string): Entry | undefined;
  /** The highest index at or below `atOrBelow` whose entry's epoch is at most `epoch` (0 when none). */
  lastIndexWithEpochAtMost(atOrBelow: number, epoch: number): number;
}
