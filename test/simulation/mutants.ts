import { HostReplication } from '../../src/modules/rooms/consensus/host-replication';
import { LOG_ORIGIN, type Entry, type LogPosition } from '../../src/modules/rooms/consensus/log-entry';
import type { Progress } from '../../src/modules/rooms/consensus/progress';
import { majorityIndex } from '../../src/modules/rooms/consensus/quorum';
import { RaftLog } from '../../src/modules/rooms/consensus/raft-log';
import { RejoinStatus } from '../../src/modules/rooms/consensus/rejoin-status';
import { RoomLogCore } from '../../src/modules/rooms/consensus/room-log-core';
import type { Append, RoomMessage } from '../../src/modules/rooms/consensus/room-messages';
import { NodeProcess } from './node-process';

/**
 * Broken versions of the core (and of the adapter's use of it), each breaking one rule a checker
 * stands for: the simulator must catch every one within a few hundred seeds, or its checkers prove
 * little. Applied by patching prototypes at runtime; `apply` returns the function that restores them.
 */
export interface Mutant {
  readonly name: string;
  readonly rule: string;
  apply(): () => void;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- a mutant reaches into private members on purpose */
type Proto = Record<string, any>;

function patch(proto: Proto, method: string, make: (original: (...args: any[]) => any) => (this: any, ...args: any[]) => any): () => void {
  const own = Object.prototype.hasOwnProperty.call(proto, method);
  const original = proto[method];
  proto[method] = make(original);
  return () => {
    if (own) proto[method] = original;
    else delete proto[method]; // it was inherited: uncover it again
  };
}

const core = RoomLogCore.prototype as unknown as Proto;
const host = HostReplication.prototype as unknown as Proto;

/** Replaces a getter of `proto` (its descriptor is put back as it was). */
function patchGetter(proto: Proto, name: string, get: (this: any) => unknown): () => void {
  const original = Object.getOwnPropertyDescriptor(proto, name)!;
  Object.defineProperty(proto, name, { ...original, get });
  return () => Object.defineProperty(proto, name, original);
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'vote-without-log-check',
    rule: 'a vote goes only to a candidate whose log is at least as up to date (atLeastAsUpToDate)',
    apply: () =>
      patch(core, 'answerVote', (answerVote) =>
        function (this: any, m: RoomMessage) {
          const log = this.log;
          log.lastPosition = (): LogPosition => LOG_ORIGIN; // every candidate looks up to date
          try {
            return answerVote.call(this, m);
          } finally {
            delete log.lastPosition;
          }
        },
      ),
  },
  {
    name: 'ack-before-persist',
    rule: 'a follower answers an append only once what it says is on disk',
    apply: () => patch(core, 'answer', (answer) => function (this: any, m: Append, ok: boolean, match: number, hint?: LogPosition) {
      return answer.call(this, m, ok, match, hint, false);
    }),
  },
  {
    name: 'commit-older-epoch-by-counting',
    rule: 'a host commits by counting only entries of its own epoch (Raft §5.4.2)',
    apply: () =>
      patch(host, 'maybeCommit', () =>
        function (this: any): boolean {
          const matches = this.cfg.voters.map((v: string) => {
            if (v === this.cfg.self) return this.log.stableIndex();
            const pr: Progress | undefined = this.progress.get(v);
            return pr && !pr.learner ? pr.match : 0;
          });
          const index = majorityIndex(matches);
          if (index <= this.log.commit) return false; // the epoch check is gone
          this.log.commit = index;
          return true;
        },
      ),
  },
  {
    name: 'ack-retry-before-commit',
    rule: 'a retried client key is acknowledged only once its entry committed',
    apply: () =>
      patch(NodeProcess.prototype as unknown as Proto, 'answerProposal', (answerProposal) =>
        function (this: any, p: any, res: any, c: RoomLogCore) {
          if (res.ok && res.duplicate) return this.reply(p, { sequence: res.sequence, index: res.index, epoch: res.epoch }, null);
          return answerProposal.call(this, p, res, c);
        },
      ),
  },
  {
    name: 'vote-before-persist',
    rule: 'a vote is on disk before it is answered',
    apply: () =>
      patch(core, 'answerVote', (answerVote) =>
        function (this: any, m: RoomMessage) {
          const before = this.afterPersist.length;
          answerVote.call(this, m);
          this.messages.push(...this.afterPersist.splice(before));
        },
      ),
  },
  {
    name: 'vote-twice',
    rule: 'a node votes at most once per epoch',
    apply: () =>
      patch(core, 'answerVote', (answerVote) =>
        function (this: any, m: RoomMessage) {
          if (m.type === 'vote') this.vote = null; // forgets whom it voted for in this epoch
          return answerVote.call(this, m);
        },
      ),
  },
  {
    name: 'truncate-on-stale-append',
    rule: 'a follower drops its log only from the first entry that conflicts (an old, delayed append truncates nothing)',
    apply: () =>
      patch(RaftLog.prototype as unknown as Proto, 'takeEntries', () =>
        function (this: any, prev: LogPosition, entries: readonly Entry[]): number {
          if (entries.length > 0) {
            const from = entries[0].index;
            if (from > this.commit) {
              this.truncateFrom(from);
              for (const e of entries) this.unstable.push(e);
              this.dirtyFrom = Math.min(this.dirtyFrom, from);
            }
          }
          return prev.index + entries.length;
        },
      ),
  },
  {
    name: 'learner-votes',
    rule: 'a learner (a wiped disk) neither votes nor counts until promoted',
    apply: () =>
      patch(core, 'answerVote', (answerVote) =>
        function (this: any, m: RoomMessage) {
          const learner = this.isLearner;
          this.isLearner = false;
          try {
            return answerVote.call(this, m);
          } finally {
            this.isLearner = learner;
          }
        },
      ),
  },
  {
    name: 'host-counts-unwritten-entries',
    rule: 'the host counts only what is on its own disk',
    apply: () =>
      patch(host, 'maybeCommit', (maybeCommit) =>
        function (this: any): boolean {
          const log = this.log;
          log.stableIndex = () => log.lastIndex(); // its own entries count before they are written
          try {
            return maybeCommit.call(this);
          } finally {
            delete log.stableIndex;
          }
        },
      ),
  },
  {
    name: 'two-copies-commit-older-epoch',
    rule: "a follower that counts its copy and the host's commits that way only an entry of the host's epoch (Raft §5.4.2)",
    apply: () =>
      patch(core, 'commitWhatTwoHold', () =>
        function (this: any) {
          if (this.role !== 'follower' || this.isLearner || this.hostStored.epoch !== this.epoch || this.cfg.voters.length > 3) return;
          const both = Math.min(this.hostStored.index, this.log.stableIndex());
          if (both > this.log.commit) this.log.commit = both; // the epoch check is gone
        },
      ),
  },
  {
    name: 'host-stored-before-write',
    rule: 'a host says its log is stored (Append.hostStored) only in appends that leave after its write',
    apply: () =>
      patch(host, 'sendAppend', (sendAppend) =>
        function (this: any, ...args: unknown[]) {
          const log = this.log;
          log.stableIndex = () => Infinity; // the append leaves at once, saying everything in it is stored
          try {
            return sendAppend.apply(this, args);
          } finally {
            delete log.stableIndex;
          }
        },
      ),
  },
  {
    name: 'skip-prev-check',
    rule: 'a follower takes an append only after the entry before it matches (log matching)',
    apply: () =>
      patch(core, 'takeAppend', (takeAppend) =>
        function (this: any, m: Append) {
          const mine = this.log.epochAt(m.prev.index);
          return takeAppend.call(this, mine === undefined ? m : { ...m, prev: { index: m.prev.index, epoch: mine } });
        },
      ),
  },
  {
    name: 'serve-before-caught-up',
    rule: "a new host serves requests (checks them against what it applied) only once it applied every entry before its epoch's first",
    apply: () =>
      patchGetter(core, 'caughtUp', function (this: any) {
        return this.role === 'leader'; // serves from the moment it is elected
      }),
  },
  {
    name: 'rejoin-on-never-heard',
    rule: 'a fresh disk decides it is clean only on answers from peers that know it (a late message from its old disk may reach a peer that does not)',
    apply: () =>
      patch(RejoinStatus.prototype as unknown as Proto, 'heard', () =>
        function (this: any, peer: string, disk: string | null) {
          if (this.peers.includes(peer)) this.answers.set(peer, disk ?? this.disk); // "never heard of it" taken as clean
        },
      ),
  },
  {
    name: 'rejoin-on-a-majority-of-peers',
    rule: 'a fresh disk decides it is clean only once every peer names it (with five nodes, a late vote of its old disk can reach the fourth peer)',
    apply: () =>
      patchGetter(RejoinStatus.prototype as unknown as Proto, 'decided', function (this: any) {
        if (!this.freshDisk || this.rejoining) return true;
        const n = this.peers.length + 1;
        return this.answers.size >= Math.min(n - (Math.floor(n / 2) + 1) + 1, this.peers.length); // three of four with five nodes
      }),
  },
  {
    name: 'no-resend',
    rule: 'an append lost on the way is sent again (liveness)',
    apply: () => patch(host, 'tick', () => function (this: any) {
      this.sendAppends();
    }),
  },
];
