import type { Entry, LogPosition } from './log-entry';

/**
 * What one room's cores say to each other (Raft's messages). `epoch` is the sender's epoch (for a
 * pre-vote: the epoch it would campaign at; for a granted pre-vote: the same), checked first by
 * the receiver (epoch-gate.ts).
 */
export type RoomMessage = Append | AppendResult | VoteRequest | VoteResult;

interface Addressed {
  readonly from: string;
  readonly to: string;
  readonly epoch: number;
}

/** The host's entries after `prev`, and how far the log is committed. Empty: a heartbeat carrying `commit`. */
export interface Append extends Addressed {
  readonly type: 'append';
  readonly prev: LogPosition;
  readonly entries: readonly Entry[];
  readonly commit: number;
  /**
   * The host's own log is on its disk up to here (at most the append's last entry) by the time
   * the append arrives. With three voters that copy and the follower's are a majority: the
   * follower knows an entry of this epoch committed once it stored it too (see RoomLogCore).
   * Absent (a node of an earlier version): 0.
   */
  readonly hostStored?: number;
}

/**
 * A follower's answer, sent only once what it says is on disk. `ok`: it holds the host's log up to
 * `match`. Refused: its log does not hold `prev`; `hint` is its last entry at or below that point
 * whose epoch is not newer, where the host tries next.
 */
export interface AppendResult extends Addressed {
  readonly type: 'appendResult';
  readonly ok: boolean;
  readonly match: number;
  readonly hint?: LogPosition;
  /** The follower is a learner here: it stores, but its answer does not count towards a majority yet. */
  readonly learner: boolean;
  /** The follower's disk identity: a new one means what it stored before is gone. */
  readonly disk: string;
}

/** `preVote` changes nothing at the voter: it asks whether a real vote could win, so a cut-off node cannot push epochs up. */
export interface VoteRequest extends Addressed {
  readonly type: 'preVote' | 'vote';
  readonly last: LogPosition;
}

export interface VoteResult extends Addressed {
  readonly type: 'preVoteResult' | 'voteResult';
  readonly granted: boolean;
  /** A refusal from a node that hears the host of its epoch names it, so a node that lost track of the host finds it again. */
  readonly leader?: string;
}

export type RoomMessageType = RoomMessage['type'];
export const isVoteRequest = (m: RoomMessage): m is VoteRequest => m.type === 'preVote' || m.type === 'vote';
