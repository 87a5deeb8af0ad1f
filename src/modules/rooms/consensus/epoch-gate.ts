import type { RoomMessage } from './room-messages';

/**
 * What a message's epoch means before any role looks at it: the one place epochs are compared
 * (etcd's Step does the same, first). Table-driven in epoch-gate.spec.ts.
 *
 * - `handle`: same epoch, or a pre-vote (or its grant) about the next one: the role decides.
 * - `adopt`: a newer epoch exists: become its follower (of the sender when it is that epoch's host).
 * - `refuseStale`: an older host or candidate: answer with our epoch, so it learns and steps down.
 * - `refuseVote`: a vote while this node still hears a live host: refuse without changing anything,
 *   so a node that was cut off cannot unseat a working host by coming back with a higher epoch.
 * - `drop`: an old answer to something long over.
 */
export type EpochVerdict = 'handle' | 'adopt' | 'refuseStale' | 'refuseVote' | 'drop';

export interface EpochView {
  epoch: number;
  /** This node hears a live host of its epoch (itself when it is that host), other than the sender. */
  hearsLiveHost: boolean;
}

export function gateEpoch(view: EpochView, m: RoomMessage): EpochVerdict {
  if (m.epoch > view.epoch) {
    switch (m.type) {
      case 'preVote':
        return view.hearsLiveHost ? 'refuseVote' : 'handle';
      case 'vote':
        return view.hearsLiveHost ? 'refuseVote' : 'adopt';
      case 'preVoteResult':
        // a grant carries the epoch we would campaign at; a refusal carries the voter's own, newer one
        return m.granted ? 'handle' : 'adopt';
      default:
        return 'adopt';
    }
  }
  if (m.epoch < view.epoch) {
    switch (m.type) {
      case 'append':
      case 'preVote':
      case 'vote':
        return 'refuseStale';
      default:
        return 'drop';
    }
  }
  return 'handle';
}
