import type { CoreConfig, Leadership, Proposal, ProposeResult, Ready } from './core-types';
import { gateEpoch } from './epoch-gate';
import { PROMOTE, type HardState, type LogPosition, type PromoteData, type StableLog } from './log-entry';
import { hostAndOneMakeMajority } from './quorum';
import { isVoteRequest, type Append, type AppendResult, type RoomMessage } from './room-messages';
import { RoomRoles } from './room-roles';

/** Committed entries handed out per Ready: a long catch-up is applied in pieces. */
const APPLY_BATCH = 500;
const APPLY_BYTES = 1 << 20;

/**
 * One room's replicated log on Raft's rules, with no I/O, no timers and no clock: inputs are a
 * peer's message (step), a client's proposal, a tick of a logical clock, "stored" (persisted) and
 * what the node-level failure detector says of peers; everything it wants done comes out of
 * ready(). Failure detection is per node, not per room: a quiet room sends nothing, and its
 * followers start an election when the detector reports its host down (peerDown).
 */
export class RoomLogCore extends RoomRoles {
  /** The commit index last handed out in a hard state (a change makes the hard state dirty). */
  private reportedCommit: number;
  /** As a follower: how far the host of `epoch` said its own log is on its disk, within what it sent here (Append.hostStored). */
  private hostStored = { epoch: 0, index: 0 };

  constructor(
    cfg: CoreConfig,
    stable: StableLog,
    hard: HardState,
    applied: number,
    /** The host this node last knew (for routing), believed alive until the detector says otherwise. */
    knownLeader: string | null = null,
  ) {
    super(cfg, stable, hard, applied, knownLeader);
    this.reportedCommit = this.log.commit;
  }

  get state(): Leadership & { commit: number; last: LogPosition; learner: boolean } {
    return { role: this.role, leader: this.leader, epoch: this.epoch, commit: this.log.commit, last: this.log.lastPosition(), learner: this.isLearner };
  }

  /** True when ticks change nothing: a follower hearing a live host, or a host whose followers hold everything. */
  get quiet(): boolean {
    if (this.role === 'follower') return this.leader !== null && !this.down.has(this.leader);
    return this.host?.settled ?? false;
  }

  /**
   * This node hosts the room and has applied every entry below its epoch's first one, so what it
   * applied holds everything committed before it was elected (leader completeness: all of that is
   * in its log, below its own entries). Until then it may lag what is committed (Raft §8, etcd's
   * "commit an entry of your own term before serving reads"): with five voters a follower learns
   * the commit only from its host, so the node elected may hold a committed ban it has not applied.
   * It knows those entries are committed once its first entry (the noop) commits, or earlier if it
   * already knew as a follower. A host checks requests against its applied state only once this is
   * true (RoomLogs.serve).
   */
  get caughtUp(): boolean {
    return this.role === 'leader' && this.host !== null && this.log.applied >= this.host.firstOfEpoch - 1;
  }

  // --- inputs ----------------------------------------------------------------------------------

  propose(p: Proposal): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: this.isLearner ? 'learner' : 'not-host', leader: this.leader, epoch: this.epoch };
    if (this.lostMajority()) return { ok: false, reason: 'no-majority', leader: this.leader, epoch: this.epoch };
    const earlier = p.clientKey ? this.log.findByClientKey(p.clientKey) : undefined;
    if (earlier) return { ok: true, index: earlier.index, epoch: earlier.epoch, sequence: earlier.sequence, duplicate: true };
    const entry = this.host!.append(p.kind, p.data, p.clientKey ?? null);
    this.host!.sendAppends();
    return { ok: true, index: entry.index, epoch: entry.epoch, sequence: entry.sequence, duplicate: false };
  }

  step(m: RoomMessage): void {
    if (m.to !== this.cfg.self || m.from === this.cfg.self || !this.cfg.voters.includes(m.from)) return;
    switch (gateEpoch({ epoch: this.epoch, hearsLiveHost: this.hearsLiveHost(m.from) }, m)) {
      case 'drop':
        return;
      case 'refuseStale':
      case 'refuseVote':
        return this.refuse(m);
      case 'adopt':
        this.becomeFollower(m.epoch, m.type === 'append' ? m.from : null);
        break;
      case 'handle':
        break;
    }
    if (isVoteRequest(m)) return this.answerVote(m);
    switch (m.type) {
      case 'append':
        if (this.role === 'leader') return this.answer(m, false, 0, undefined, false); // one host per epoch, and it is this node: forged or a bug
        if (this.role !== 'follower') this.becomeFollower(this.epoch, m.from); // a candidate: another node won this epoch
        return this.takeAppend(m);
      case 'appendResult':
        return this.host?.takeResult(m);
      case 'preVoteResult':
      case 'voteResult':
        return this.takeVoteResult(m);
    }
  }

  tick(): void {
    this.ticks++;
    if (this.host) {
      if (this.lostMajority()) return this.becomeFollower(this.epoch, null); // check-quorum: stop serving
      return this.host.tick();
    }
    if (this.role !== 'follower' && this.ticks >= this.electionEndsAt) return this.becomeFollower(this.epoch, null);
    if (this.role === 'follower' && this.ticks >= this.campaignAt) {
      this.campaignAt = Infinity;
      this.campaign();
    }
  }

  /** The adapter stored what the Ready marked with `mark`. */
  persisted(mark: LogPosition | null): void {
    if (!mark) return;
    this.log.stableTo(mark);
    if (this.host?.maybeCommit()) this.host.sendAppends();
    this.commitWhatTwoHold();
  }

  /**
   * A peer proved the entry at `p` committed (it applied it: a room's deletion, whose tombstone it
   * holds). If this log holds that very entry, everything up to it is committed here too (log
   * matching: the committed prefix is the same in every log that holds the entry).
   */
  commitKnown(p: LogPosition): void {
    if (p.index > this.log.commit && this.log.epochAt(p.index) === p.epoch) this.log.commit = Math.min(p.index, this.log.lastIndex());
  }

  /** The failure detector stopped hearing `node`. */
  peerDown(node: string): void {
    if (this.down.has(node)) return;
    this.down.add(node);
    if (this.role !== 'follower' || this.leader !== node) return;
    this.loseLeader(node);
    // this node's turn is now (the first live voter): it asks at once rather than at the next tick
    if (this.ticks < this.campaignAt) return;
    this.campaignAt = Infinity;
    this.campaign();
  }

  peerUp(node: string): void {
    if (this.down.delete(node)) this.host?.resume(node);
  }

  /** `node` restarted (new boot): it is nobody's host any more and may have lost what it had not stored. */
  peerRestarted(node: string): void {
    this.down.delete(node);
    this.host?.restarted(node);
    if (this.role === 'follower' && this.leader === node) this.loseLeader(node);
  }

  /**
   * A new room: this node hosts its first epoch without an election. Safe because nobody else can
   * reach epoch 1 but through this node's appends (a node with an empty log never campaigns).
   */
  found(first: Proposal): ProposeResult {
    if (this.epoch !== 0 || this.log.lastIndex() !== 0) throw new Error('only an empty log can be founded');
    this.epoch = 1;
    this.vote = this.cfg.self;
    this.hardStateDirty = true;
    this.becomeLeader(false);
    return this.propose(first);
  }

  /** Campaign now (this node hosted the room before it restarted). A node with an empty log has nothing to offer: it never does. */
  campaign(): void {
    if (this.isLearner || this.log.lastIndex() === 0 || this.role !== 'follower') return;
    if (this.cfg.voters.length === 1) return this.becomeCandidate();
    this.role = 'precandidate';
    this.leadershipChanged = true;
    this.startElection('preVote', this.epoch + 1);
  }

  // --- output ----------------------------------------------------------------------------------

  hasReady(): boolean {
    return this.hardStateDirty || this.log.commit !== this.reportedCommit || this.messages.length > 0 || this.afterPersist.length > 0 || this.leadershipChanged || this.log.hasCommittedToApply() || this.log.hasUnpersisted();
  }

  ready(): Ready {
    const persist = this.log.takeUnpersisted();
    const committed = this.log.takeCommitted(APPLY_BATCH, APPLY_BYTES, this.cfg.entryBytes);
    for (const e of committed) if (e.kind === PROMOTE) this.applyPromote(e.data as PromoteData);
    const ready: Ready = {
      hardState: this.hardStateDirty || this.log.commit !== this.reportedCommit ? { epoch: this.epoch, vote: this.vote, commit: this.log.commit, learner: this.isLearner } : null,
      persist,
      mark: persist ? this.log.lastPosition() : null,
      messages: this.messages,
      afterPersist: this.afterPersist,
      committed,
      leadership: this.leadershipChanged ? { role: this.role, leader: this.leader, epoch: this.epoch } : null,
    };
    this.hardStateDirty = false;
    this.reportedCommit = this.log.commit;
    this.leadershipChanged = false;
    this.messages = [];
    this.afterPersist = [];
    return ready;
  }

  // --- followers -------------------------------------------------------------------------------

  private takeAppend(m: Append): void {
    // one host per epoch: an append from another node at the epoch whose host this node knows is forged or a bug
    if (this.leader !== null && this.leader !== m.from && this.leader !== this.cfg.self) return this.answer(m, false, 0, undefined, false);
    if (this.leader !== m.from) {
      this.leader = m.from;
      this.leadershipChanged = true;
    }
    this.campaignAt = Infinity;
    const commit = this.log.commit;
    if (m.prev.index < commit) {
      // what is committed here is in every later host's log at the same place: skip to there
      const rest = m.entries.filter((e) => e.index > commit);
      if (rest.length === 0) return this.answer(m, true, Math.min(commit, m.prev.index + m.entries.length), undefined, true);
      m = { ...m, prev: { index: commit, epoch: this.log.epochAt(commit) ?? 0 }, entries: rest };
    }
    if (this.log.epochAt(m.prev.index) !== m.prev.epoch) {
      const at = Math.min(m.prev.index, this.log.lastIndex());
      const index = this.log.lastIndexWithEpochAtMost(at, m.prev.epoch);
      return this.answer(m, false, 0, { index, epoch: this.log.epochAt(index) ?? 0 }, false);
    }
    const lastNew = this.log.takeEntries(m.prev, m.entries);
    this.log.commit = Math.max(this.log.commit, Math.min(m.commit, lastNew));
    if (this.hostStored.epoch !== this.epoch) this.hostStored = { epoch: this.epoch, index: 0 };
    this.hostStored.index = Math.max(this.hostStored.index, Math.min(m.hostStored ?? 0, lastNew));
    this.commitWhatTwoHold();
    this.answer(m, true, lastNew, undefined, true);
  }

  /**
   * With two or three voters the host's copy and this node's are a majority: an entry of the
   * host's epoch that both hold on disk is committed (Raft §5.4.2: stored on a majority in the
   * host's own epoch), and so is everything before it. This node applies it without waiting for
   * the host to say so. A learner's copy does not count.
   */
  private commitWhatTwoHold(): void {
    if (this.role !== 'follower' || this.isLearner || this.hostStored.epoch !== this.epoch || !hostAndOneMakeMajority(this.cfg.voters.length)) return;
    const both = Math.min(this.hostStored.index, this.log.stableIndex());
    if (both > this.log.commit && this.log.epochAt(both) === this.epoch) this.log.commit = both;
  }

  private answer(m: Append, ok: boolean, match: number, hint: LogPosition | undefined, afterPersist: boolean): void {
    const result: AppendResult = { type: 'appendResult', from: this.cfg.self, to: m.from, epoch: this.epoch, ok, match, ...(hint ? { hint } : {}), learner: this.isLearner, disk: this.cfg.disk };
    (afterPersist ? this.afterPersist : this.messages).push(result);
  }

  private refuse(m: RoomMessage): void {
    const base = { from: this.cfg.self, to: m.from, epoch: this.epoch };
    if (m.type === 'append') this.messages.push({ ...base, type: 'appendResult', ok: false, match: 0, learner: this.isLearner, disk: this.cfg.disk });
    else if (isVoteRequest(m)) this.messages.push({ ...base, type: m.type === 'preVote' ? 'preVoteResult' : 'voteResult', granted: false, ...(this.leader ? { leader: this.leader } : {}) });
  }

  private applyPromote(p: PromoteData): void {
    if (!this.isLearner || p.node !== this.cfg.self || p.disk !== this.cfg.disk) return;
    this.isLearner = false;
    this.hardStateDirty = true;
    if (this.role === 'follower' && this.leader === null) this.scheduleCampaign(null);
  }
}
