import type { RoomLogState } from '../../../common/store/room-log.repository';
import { CommitWaits } from '../consensus/commit-waits';
import type { Leadership } from '../consensus/core-types';
import type { HardState } from '../consensus/log-entry';
import type { RoomLogCore } from '../consensus/room-log-core';

/** A room whose core is in memory, with what the adapter keeps beside it. */
export class LoadedRoom {
  readonly waits = new CommitWaits();
  /** Host and epoch as last reported by the core (and kept on disk for routing after a restart). */
  leadership: Leadership;
  /** The hard state as last written (a change of epoch, vote or learner must be fsynced before anyone hears of it). */
  written: HardState;
  applied: number;
  /** The last host known (kept while an election runs), so a new host can say whom it replaced. */
  lastHost: { node: string; epoch: number } | null;
  /** This node hosted the room before a restart: with failover off, only it may take the room again. */
  readonly ownedBefore: boolean;

  constructor(
    readonly roomId: string,
    readonly core: RoomLogCore,
    state: RoomLogState,
    self: string,
  ) {
    this.written = { epoch: state.epoch, vote: state.vote, commit: state.commit, learner: state.learner };
    this.applied = state.applied;
    this.ownedBefore = state.hostNode === self;
    this.leadership = { role: 'follower', leader: state.hostNode === self ? null : state.hostNode, epoch: state.hostEpoch };
    this.lastHost = state.hostNode ? { node: state.hostNode, epoch: state.hostEpoch } : null;
  }

  /** The host to send requests to: the core's, else the one last known. */
  host(): { node: string; epoch: number } | null {
    return this.leadership.leader ? { node: this.leadership.leader, epoch: this.leadership.epoch } : null;
  }

  /** What to write for this room after a Ready (null hard state: unchanged). */
  state(hard: HardState | null): RoomLogState {
    const h = hard ?? this.written;
    return {
      roomId: this.roomId,
      epoch: h.epoch,
      vote: h.vote,
      commit: h.commit,
      applied: this.applied,
      learner: h.learner,
      hostNode: this.leadership.leader,
      hostEpoch: this.leadership.epoch,
    };
  }

  /** A hard state whose epoch, vote or learner flag changed must be on disk before it is answered on. */
  mustSync(hard: HardState | null): boolean {
    return hard !== null && (hard.epoch !== this.written.epoch || hard.vote !== this.written.vote || hard.learner !== this.written.learner);
  }
}
