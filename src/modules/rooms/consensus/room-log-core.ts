import type { CoreConfig, Leadership, Proposal, ProposeResult, Ready, Role } from './core-types';
import { gateEpoch } from './epoch-gate';
import { HostReplication } from './host-replication';
import { atLeastAsUpToDate, NOOP, PROMOTE, type HardState, type LogPosition, type PromoteData, type StableLog } from './log-entry';
import { majorityOf, VoteTally } from './quorum';
import { RaftLog } from './raft-log';
import { isVoteRequest, type Append, type AppendResult, type RoomMessage, type VoteRequest, type VoteResult } from './room-messages';

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
export class RoomLogCore {
  private role: Role = 'follower';
  private epoch: number;
  private vote: string | null;
  private isLearner: boolean;
  private leader: string | null;
  private readonly log: RaftLog;
  private readonly down = new Set<string>();
  /** Set while this node is the room's host. */
  private host: HostReplication | null = null;
  private tally: VoteTally | null = null;
  private ticks = 0;
  /** Follower without a live host: the tick at which it campaigns. */
  private campaignAt = Infinity;
  /** (Pre)candidate: the tick at which an unfinished election is given up. */
  private electionEndsAt = Infinity;
  private hardStateDirty = false;
  /** The commit index last handed out in a hard state (a change makes the hard state dirty). */
  private reportedCommit: number;
  private messages: RoomMessage[] = [];
  private afterPersist: RoomMessage[] = [];
  private leadershipChanged = false;

  constructor(
    private readonly cfg: CoreConfig,
    stable: StableLog,
    hard: HardState,
    applied: number,
    /** The host this node last knew (for routing), believed alive until the detector says otherwise. */
    knownLeader: string | null = null,
  ) {
    this.epoch = hard.epoch;
    this.vote = hard.vote;
    this.isLearner = hard.learner;
    this.log = new RaftLog(stable, hard.commit, applied);
    this.reportedCommit = this.log.commit;
    this.leader = knownLeader === cfg.self ? null : knownLeader;
    if (this.leader === null) this.scheduleCampaign(null);
  }

  get state(): Leadership & { commit: number; last: LogPosition; learner: boolean } {
    return { role: this.role, leader: this.leader, epoch: this.epoch, commit: this.log.commit, last: this.log.lastPosition(), learner: this.isLearner };
  }

  /** True when ticks change nothing: a follower hearing a live host, or a host whose followers hold everything. */
  get quiet(): boolean {
    if (this.role === 'follower') return this.leader !== null && !this.down.has(this.leader);
    return this.host?.settled ?? false;
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
        if (this.role !== 'follower') this.becomeFollower(this.epoch, m.from); // another node won this epoch
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
  }

  /** The failure detector stopped hearing `node`. */
  peerDown(node: string): void {
    if (this.down.has(node)) return;
    this.down.add(node);
    if (this.role === 'follower' && this.leader === node) this.loseLeader(node);
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
    this.answer(m, true, lastNew, undefined, true);
  }

  private answer(m: Append, ok: boolean, match: number, hint: LogPosition | undefined, afterPersist: boolean): void {
    const result: AppendResult = { type: 'appendResult', from: this.cfg.self, to: m.from, epoch: this.epoch, ok, match, ...(hint ? { hint } : {}), learner: this.isLearner, disk: this.cfg.disk };
    (afterPersist ? this.afterPersist : this.messages).push(result);
  }

  private answerVote(m: VoteRequest): void {
    if (m.from === this.leader) this.loseLeader(m.from); // the host itself campaigns: it lost what it was (a restart)
    const pre = m.type === 'preVote';
    const free = pre ? m.epoch > this.epoch : this.vote === null || this.vote === m.from;
    const granted = !this.isLearner && free && atLeastAsUpToDate(m.last, this.log.lastPosition());
    if (granted && !pre) {
      this.vote = m.from;
      this.hardStateDirty = true;
      // give the candidate its whole election, then campaign if it never won (it may have crashed or lost)
      if (this.role === 'follower' && this.leader === null) this.scheduleCampaign(m.from, 2 * this.cfg.electionTicks);
    }
    const result: VoteResult = { type: pre ? 'preVoteResult' : 'voteResult', from: this.cfg.self, to: m.from, epoch: pre && granted ? m.epoch : this.epoch, granted };
    (granted && !pre ? this.afterPersist : this.messages).push(result);
  }

  private refuse(m: RoomMessage): void {
    const base = { from: this.cfg.self, to: m.from, epoch: this.epoch };
    if (m.type === 'append') this.messages.push({ ...base, type: 'appendResult', ok: false, match: 0, learner: this.isLearner, disk: this.cfg.disk });
    else if (isVoteRequest(m)) this.messages.push({ ...base, type: m.type === 'preVote' ? 'preVoteResult' : 'voteResult', granted: false });
  }

  private applyPromote(p: PromoteData): void {
    if (!this.isLearner || p.node !== this.cfg.self || p.disk !== this.cfg.disk) return;
    this.isLearner = false;
    this.hardStateDirty = true;
    if (this.role === 'follower' && this.leader === null) this.scheduleCampaign(null);
  }

  // --- elections -------------------------------------------------------------------------------

  private hearsLiveHost(from: string): boolean {
    if (this.role === 'leader') return !this.lostMajority();
    return this.role === 'follower' && this.leader !== null && this.leader !== from && !this.down.has(this.leader);
  }

  private loseLeader(formerLeader: string): void {
    this.leader = null;
    this.leadershipChanged = true;
    this.scheduleCampaign(formerLeader);
  }

  /** Live voters take turns by id (without a host, the lowest campaigns first), so candidates rarely split a vote. */
  private scheduleCampaign(formerLeader: string | null, extra = 0): void {
    const live = this.cfg.voters.filter((v) => v !== formerLeader && (v === this.cfg.self || !this.down.has(v))).sort();
    const rank = Math.max(0, live.indexOf(this.cfg.self));
    const turn = Math.ceil(this.cfg.electionTicks / 2);
    this.campaignAt = this.ticks + extra + rank * turn + Math.floor(this.cfg.random() * 2);
  }

  private startElection(type: 'preVote' | 'vote', epoch: number): void {
    this.tally = new VoteTally(this.cfg.voters.length);
    this.tally.record(this.cfg.self, true);
    this.electionEndsAt = this.ticks + this.cfg.electionTicks + Math.floor(this.cfg.random() * this.cfg.electionTicks);
    const last = this.log.lastPosition();
    const out = type === 'vote' ? this.afterPersist : this.messages; // our own vote is on disk before we ask for others'
    for (const to of this.cfg.voters) if (to !== this.cfg.self) out.push({ type, from: this.cfg.self, to, epoch, last });
  }

  private takeVoteResult(m: VoteResult): void {
    const expected = this.role === 'precandidate' ? 'preVoteResult' : this.role === 'candidate' ? 'voteResult' : null;
    if (m.type !== expected || !this.tally) return;
    this.tally.record(m.from, m.granted);
    const outcome = this.tally.outcome();
    if (outcome === 'won') return this.role === 'precandidate' ? this.becomeCandidate() : this.becomeLeader();
    if (outcome === 'lost') this.becomeFollower(this.epoch, null);
  }

  private becomeCandidate(): void {
    this.role = 'candidate';
    this.epoch++;
    this.vote = this.cfg.self;
    this.leader = null;
    this.hardStateDirty = true;
    this.leadershipChanged = true;
    if (this.cfg.voters.length === 1) return this.becomeLeader();
    this.startElection('vote', this.epoch);
  }

  private becomeFollower(epoch: number, leader: string | null): void {
    const was = { role: this.role, leader: this.leader, epoch: this.epoch };
    if (epoch > this.epoch) {
      this.epoch = epoch;
      this.vote = null;
      this.hardStateDirty = true;
    }
    this.role = 'follower';
    this.leader = leader;
    this.tally = null;
    this.host = null;
    this.electionEndsAt = Infinity;
    if (leader === null) this.scheduleCampaign(was.leader, was.role === 'follower' ? 0 : this.cfg.electionTicks);
    else this.campaignAt = Infinity;
    if (was.role !== this.role || was.leader !== leader || was.epoch !== this.epoch) this.leadershipChanged = true;
  }

  private becomeLeader(withNoop = true): void {
    this.role = 'leader';
    this.leader = this.cfg.self;
    this.tally = null;
    this.electionEndsAt = Infinity;
    this.campaignAt = Infinity;
    this.leadershipChanged = true;
    this.host = new HostReplication(this.cfg, this.log, this.epoch, this.down, (m) => this.messages.push(m), () => this.ticks);
    if (withNoop) this.host.append(NOOP, null, null); // commits what earlier hosts left, once a majority stores it
    this.host.sendAppends();
  }

  private lostMajority(): boolean {
    const live = this.cfg.voters.filter((v) => v === this.cfg.self || !this.down.has(v)).length;
    return live < majorityOf(this.cfg.voters.length);
  }
}
