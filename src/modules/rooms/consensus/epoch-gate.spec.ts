import { gateEpoch, type EpochVerdict } from './epoch-gate';
import type { RoomMessage } from './room-messages';

type Kind = 'append' | 'appendResult' | 'preVote' | 'vote' | 'preVoteResult granted' | 'preVoteResult refused' | 'voteResult granted' | 'voteResult refused';
type Epoch = 'older' | 'same' | 'newer';

const VIEW_EPOCH = 5;
const epochOf: Record<Epoch, number> = { older: 4, same: 5, newer: 6 };

function message(kind: Kind, epoch: number): RoomMessage {
  const base = { from: 'n2', to: 'n1', epoch };
  switch (kind) {
    case 'append':
      return { ...base, type: 'append', prev: { index: 3, epoch: 4 }, entries: [], commit: 3 };
    case 'appendResult':
      return { ...base, type: 'appendResult', ok: true, match: 3, learner: false, disk: 'n2.d1' };
    case 'preVote':
    case 'vote':
      return { ...base, type: kind, last: { index: 3, epoch: 4 } };
    default: {
      const [type, granted] = kind.split(' ') as ['preVoteResult' | 'voteResult', string];
      return { ...base, type, granted: granted === 'granted' };
    }
  }
}

/**
 * Every message type x older / same / newer epoch than the receiver's x whether the receiver hears
 * a live host: the one place epochs are compared. `live` matters only for a vote (or pre-vote)
 * about a newer epoch: refused while a host is heard, so a node that was cut off cannot unseat it.
 */
const TABLE: [Kind, Epoch, live: boolean, EpochVerdict][] = [
  // a newer epoch exists: follow it, except for votes while a live host is heard
  ['append', 'newer', false, 'adopt'],
  ['append', 'newer', true, 'adopt'],
  ['appendResult', 'newer', false, 'adopt'],
  ['appendResult', 'newer', true, 'adopt'],
  ['preVote', 'newer', false, 'handle'], // a pre-vote changes nothing: the role decides
  ['preVote', 'newer', true, 'refuseVote'],
  ['vote', 'newer', false, 'adopt'],
  ['vote', 'newer', true, 'refuseVote'],
  ['preVoteResult granted', 'newer', false, 'handle'], // a grant carries the epoch we would campaign at
  ['preVoteResult granted', 'newer', true, 'handle'],
  ['preVoteResult refused', 'newer', false, 'adopt'], // a refusal carries the voter's own, newer epoch
  ['preVoteResult refused', 'newer', true, 'adopt'],
  ['voteResult granted', 'newer', false, 'adopt'],
  ['voteResult granted', 'newer', true, 'adopt'],
  ['voteResult refused', 'newer', false, 'adopt'],
  ['voteResult refused', 'newer', true, 'adopt'],
  // the same epoch: the role decides
  ['append', 'same', false, 'handle'],
  ['append', 'same', true, 'handle'],
  ['appendResult', 'same', false, 'handle'],
  ['appendResult', 'same', true, 'handle'],
  ['preVote', 'same', false, 'handle'],
  ['preVote', 'same', true, 'handle'],
  ['vote', 'same', false, 'handle'],
  ['vote', 'same', true, 'handle'],
  ['preVoteResult granted', 'same', false, 'handle'],
  ['preVoteResult granted', 'same', true, 'handle'],
  ['preVoteResult refused', 'same', false, 'handle'],
  ['preVoteResult refused', 'same', true, 'handle'],
  ['voteResult granted', 'same', false, 'handle'],
  ['voteResult granted', 'same', true, 'handle'],
  ['voteResult refused', 'same', false, 'handle'],
  ['voteResult refused', 'same', true, 'handle'],
  // an older epoch: a stale host or candidate is told ours; an old answer is dropped
  ['append', 'older', false, 'refuseStale'],
  ['append', 'older', true, 'refuseStale'],
  ['appendResult', 'older', false, 'drop'],
  ['appendResult', 'older', true, 'drop'],
  ['preVote', 'older', false, 'refuseStale'],
  ['preVote', 'older', true, 'refuseStale'],
  ['vote', 'older', false, 'refuseStale'],
  ['vote', 'older', true, 'refuseStale'],
  ['preVoteResult granted', 'older', false, 'drop'],
  ['preVoteResult granted', 'older', true, 'drop'],
  ['preVoteResult refused', 'older', false, 'drop'],
  ['preVoteResult refused', 'older', true, 'drop'],
  ['voteResult granted', 'older', false, 'drop'],
  ['voteResult granted', 'older', true, 'drop'],
  ['voteResult refused', 'older', false, 'drop'],
  ['voteResult refused', 'older', true, 'drop'],
];

describe(gateEpoch.name, () => {
  it('has one row for every message type, epoch and liveness', () => {
    expect(new Set(TABLE.map(([k, e, l]) => `${k}/${e}/${l}`)).size).toBe(8 * 3 * 2);
  });

  it.each(TABLE)('%s from a %s epoch, live host heard: %s -> %s', (kind, epoch, live, verdict) => {
    expect(gateEpoch({ epoch: VIEW_EPOCH, hearsLiveHost: live }, message(kind, epochOf[epoch]))).toBe(verdict);
  });

  it('compares epochs only by order: a much newer or older one is treated like the next or the previous', () => {
    expect(gateEpoch({ epoch: VIEW_EPOCH, hearsLiveHost: false }, message('append', 1000))).toBe('adopt');
    expect(gateEpoch({ epoch: VIEW_EPOCH, hearsLiveHost: false }, message('vote', 0))).toBe('refuseStale');
  });
});
