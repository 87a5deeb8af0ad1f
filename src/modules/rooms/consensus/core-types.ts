import type { Entry, HardState, LogPosition } from './log-entry';
import type { RoomMessage } from './room-messages';

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

export interface CoreConfig {
  /** This node, and the identity of its disk (a new one after a wipe). */
  readonly self: string;
  readonly disk: string;
  /** Every node that votes on this room, this one included (today: every node of the cluster). */
  readonly voters: readonly string[];
  /**
   * Ticks a candidate waits for a majority before trying again, and the unit by which the nodes'
   * turns to campaign are staggered after a host is lost (the lowest live node id goes first).
   */
  readonly electionTicks: number;
  /** An append unanswered for this many ticks is sent again (the network may have lost it). */
  readonly resendTicks: number;
  readonly maxAppendEntries: number;
  readonly maxAppendBytes: number;
  /** Appends on their way to one follower at once (one while probing). */
  readonly maxInflight: number;
  readonly entryBytes: (e: Entry) => number;
  /** [0, 1): Math.random in production, seeded in the simulator. */
  readonly random: () => number;
  /** False (FAILOVER_TIMEOUT=0): a node never campaigns on its own; only campaign() starts an election. */
  readonly failover?: boolean;
}

/** What a client (through the host) asks the room's log to hold. */
export interface Proposal {
  readonly kind: string;
  readonly data: unknown;
  /** Given for a message sent with a client_message_id: a retry is answered with the first entry. */
  readonly clientKey?: string | null;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly epoch: number; readonly sequence: number; readonly duplicate: boolean }
  | { readonly ok: false; readonly reason: 'not-host' | 'no-majority' | 'learner'; readonly leader: string | null; readonly epoch: number };

export interface Leadership {
  readonly role: Role;
  readonly leader: string | null;
  readonly epoch: number;
}

/**
 * Everything the core wants done since the last Ready. The adapter stores `hardState` and
 * `persist` (one write, then fsync), then calls `persisted(mark)`, sends `afterPersist`, and
 * applies `committed` in order. `messages` may go at once.
 */
export interface Ready {
  readonly hardState: HardState | null;
  /** Drop stored entries from `from` on, then store `entries`. */
  readonly persist: { readonly from: number; readonly entries: readonly Entry[] } | null;
  readonly mark: LogPosition | null;
  readonly messages: readonly RoomMessage[];
  readonly afterPersist: readonly RoomMessage[];
  /** Committed entries on disk here, in order; the core considers them applied. */
  readonly committed: readonly Entry[];
  /** Set when role, host or epoch changed. */
  readonly leadership: Leadership | null;
}
