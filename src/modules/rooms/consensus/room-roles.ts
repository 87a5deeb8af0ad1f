import type { CoreConfig, Role } from './core-types';
import { HostReplication } from './host-replication';
import { atLeastAsUpToDate, NOOP, type HardState, type StableLog } from './log-entry';
import { majorityOf, VoteTally } from './quorum';
import { RaftLog } from './raft-log';
import type { RoomMessage, VoteRequest, VoteResult } from './room-messages';

/**
 * The state of one room's log on this node and the rules that change its role: elections (pre-vote,
 * vote, turns to campaign), and the named transitions to follower, candidate and host. RoomLogCore
 * (room-log-core.ts) adds the inputs, the outputs and the follower's side of replication.
 */
export abstract class RoomRoles {
  protected role: Role = 'follower';
  protected epoch: number;
  protected vote: string | null;
  protected isLearner: boolean;
  protected leader: string | null;
  protected readonly log: RaftLog;
  protected readonly down = new Set<string>();
  /** Set while this node is the room's host. */
  protected host: HostReplication | null = null;
  protected tally: VoteTally | null = null;
  protected ticks = 0;
  /** Follower without a live host: the tick at which it campaigns. */
  protected campaignAt = Infinity;
  /** (Pre)candidate: the tick at which an unfinished election is given up. */
  protected electionEndsAt = Infinity;
  protected hardStateDirty = false;
  protected messages: RoomMessage[] = [];
  protected afterPersist: RoomMessage[] = [];
  protected leadershipChanged = false;

  constructor(
    protected readonly cfg: CoreConfig,
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
    this.leader = knownLeader === cfg.self ? null : knownLeader;
    if (this.leader === null) this.scheduleCampaign(null);
  }

  // --- votes ------------------------------------------------------------------------------------

  protected answerVote(m: VoteRequest): void {
    if (m.from === this.leader) this.loseLeader(m.from); // the host itself campaigns: it lost what it was (a restart)
    const pre = m.type === 'preVote';
    const free = pre ? m.epoch > this.epoch : this.vote === null || this.vote === m.from;
    const upToDate = atLeastAsUpToDate(m.last, this.log.lastPosition());
    const granted = !this.isLearner && free && upToDate;
    // a candidate behind this node cannot win: without a live host, this node takes its turn as if that
    // candidate were not there (its turn, not at once: every voter ahead of it hears the same request,
    // and running together they split the vote for good, simulator seed 2283)
    if (!upToDate && this.role === 'follower' && this.leader === null && !this.isLearner) this.campaignAt = Math.min(this.campaignAt, this.campaignTurn(m.from, 0));
    if (granted && !pre) {
      this.vote = m.from;
      this.hardStateDirty = true;
      // give the candidate its whole election, then campaign if it never won (it may have crashed or lost)
      if (this.role === 'follower' && this.leader === null) this.scheduleCampaign(m.from, 2 * this.cfg.electionTicks);
    }
    const result: VoteResult = { type: pre ? 'preVoteResult' : 'voteResult', from: this.cfg.self, to: m.from, epoch: pre && granted ? m.epoch : this.epoch, granted };
    (granted && !pre ? this.afterPersist : this.messages).push(result);
  }

  // --- elections -------------------------------------------------------------------------------

  protected hearsLiveHost(from: string): boolean {
    if (this.role === 'leader') return !this.lostMajority();
    return this.role === 'follower' && this.leader !== null && this.leader !== from && !this.down.has(this.leader);
  }

  protected loseLeader(formerLeader: string): void {
    this.leader = null;
    this.leadershipChanged = true;
    this.scheduleCampaign(formerLeader);
  }

  /** Live voters take turns by id (without a host, the lowest campaigns first), so candidates rarely split a vote. */
  protected scheduleCampaign(formerLeader: string | null, extra = 0): void {
    this.campaignAt = this.campaignTurn(formerLeader, extra);
  }

  /** The tick of this node's turn to campaign, `skipped` left out of the order. */
  private campaignTurn(skipped: string | null, extra: number): number {
    if (this.cfg.failover === false) return Infinity;
    const live = this.cfg.voters.filter((v) => v !== skipped && (v === this.cfg.self || !this.down.has(v))).sort();
    const rank = Math.max(0, live.indexOf(this.cfg.self));
    const turn = this.cfg.electionTicks; // a full failover timeout each: the lowest live node has time to win first
    return this.ticks + extra + rank * turn + Math.floor(this.cfg.random() * 2);
  }

  protected startElection(type: 'preVote' | 'vote', epoch: number): void {
    this.tally = new VoteTally(this.cfg.voters.length);
    this.tally.record(this.cfg.self, true);
    this.electionEndsAt = this.ticks + (type === 'preVote' ? this.preVoteTicks() : this.cfg.electionTicks + Math.floor(this.cfg.random() * this.cfg.electionTicks));
    const last = this.log.lastPosition();
    const out = type === 'vote' ? this.afterPersist : this.messages; // our own vote is on disk before we ask for others'
    for (const to of this.cfg.voters) if (to !== this.cfg.self) out.push({ type, from: this.cfg.self, to, epoch, last });
  }

  /** A pre-vote asks and changes nothing: it is given up (and tried again) after a few ticks. */
  protected preVoteTicks(): number {
    return Math.max(1, Math.round(this.cfg.electionTicks / 10));
  }

  protected takeVoteResult(m: VoteResult): void {
    // refused by this epoch's host itself (one per epoch): follow it. Not on hearsay: a voter naming
    // another node may name one that restarted and hosts nothing now, and two such voters would name
    // it to each other for good (simulator seed 4493); nor a host this node's own detector reports
    // down (it is campaigning because of that, and the voter will see it too)
    if (!m.granted && m.leader === m.from && m.epoch === this.epoch && !this.down.has(m.from) && this.role !== 'leader') return this.becomeFollower(this.epoch, m.from);
    const expected = this.role === 'precandidate' ? 'preVoteResult' : this.role === 'candidate' ? 'voteResult' : null;
    if (m.type !== expected || !this.tally) return;
    this.tally.record(m.from, m.granted);
    const outcome = this.tally.outcome();
    if (outcome === 'won') return this.role === 'precandidate' ? this.becomeCandidate() : this.becomeLeader();
    if (outcome === 'lost') this.becomeFollower(this.epoch, null);
  }

  protected becomeCandidate(): void {
    this.role = 'candidate';
    this.epoch++;
    this.vote = this.cfg.self;
    this.leader = null;
    this.hardStateDirty = true;
    this.leadershipChanged = true;
    if (this.cfg.voters.length === 1) return this.becomeLeader();
    this.startElection('vote', this.epoch);
  }

  protected becomeFollower(epoch: number, leader: string | null): void {
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
    // a pre-vote that failed (a voter still hears the host: detectors disagree for a moment) is cheap to try again soon
    if (leader === null) this.scheduleCampaign(was.leader, was.role === 'follower' ? 0 : was.role === 'precandidate' ? this.preVoteTicks() : this.cfg.electionTicks);
    else this.campaignAt = Infinity;
    if (was.role !== this.role || was.leader !== leader || was.epoch !== this.epoch) this.leadershipChanged = true;
  }

  protected becomeLeader(withNoop = true): void {
    this.role = 'leader';
    this.leader = this.cfg.self;
    this.tally = null;
    this.electionEndsAt = Infinity;
    this.campaignAt = Infinity;
    this.leadershipChanged = true;
    this.host = new HostReplication(this.cfg, this.log, this.epoch, this.down, (m, afterOwnWrite) => (afterOwnWrite ? this.afterPersist : this.messages).push(m), () => this.ticks);
    if (withNoop) this.host.append(NOOP, null, null); // commits what earlier hosts left, once a majority stores it
    this.host.sendAppends();
  }

  protected lostMajority(): boolean {
    const live = this.cfg.voters.filter((v) => v === this.cfg.self || !this.down.has(v)).length;
    return live < majorityOf(this.cfg.voters.length);
  }
}
