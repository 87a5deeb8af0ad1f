import type { CoreConfig } from './core-types';
import { MESSAGE, PROMOTE, type Entry, type PromoteData } from './log-entry';
import { Progress } from './progress';
import { hostAndOneMakeMajority, majorityIndex } from './quorum';
import type { RaftLog } from './raft-log';
import type { AppendResult, RoomMessage } from './room-messages';

/**
 * The host's side of one room's log at one epoch: what each follower holds, when an index
 * commits, and which appends go out. Created when a node wins an election, dropped when it is
 * no longer host.
 */
export class HostReplication {
  private readonly progress: Map<string, Progress>;
  /**
   * Two copies are a majority: new entries go to followers once they are on this node's disk, and
   * each follower then knows by itself when they are committed (no message carries the commit).
   * Otherwise they go while this node writes them (Raft's overlap: its own copy counts once stored).
   */
  private readonly appendAfterOwnWrite: boolean;
  /**
   * The first index of this epoch: every entry from here on is this host's own (it only appends),
   * none before it is. Every entry committed before this host was elected lies below it (Raft's
   * leader completeness), which is what RoomLogCore.caughtUp relies on.
   */
  readonly firstOfEpoch: number;

  constructor(
    private readonly cfg: CoreConfig,
    private readonly log: RaftLog,
    private readonly epoch: number,
    private readonly down: ReadonlySet<string>,
    private readonly send: (m: RoomMessage, afterOwnWrite: boolean) => void,
    private readonly now: () => number,
  ) {
    const last = log.lastIndex();
    this.progress = new Map(cfg.voters.filter((v) => v !== cfg.self).map((v) => [v, new Progress(last)]));
    this.appendAfterOwnWrite = hostAndOneMakeMajority(cfg.voters.length);
    this.firstOfEpoch = last + 1;
  }

  /** Every follower holds everything and knows the commit: ticks change nothing. */
  get settled(): boolean {
    const last = this.log.lastIndex();
    for (const pr of this.progress.values()) if (pr.match < last || pr.inflight > 0 || this.commitKnownBy(pr) < this.log.commit) return false;
    return true;
  }

  append(kind: string, data: unknown, clientKey: string | null): Entry {
    const entry: Entry = { index: this.log.lastIndex() + 1, epoch: this.epoch, kind, sequence: this.log.lastSequence() + (kind === MESSAGE ? 1 : 0), clientKey, data };
    this.log.append(entry);
    return entry;
  }

  takeResult(m: AppendResult): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    if (pr.disk !== null && pr.disk !== m.disk) pr.reset(this.log.lastIndex()); // another disk: what it held is gone
    pr.disk = m.disk;
    pr.learner = m.learner;
    if (!m.ok) {
      const hint = m.hint ?? { index: pr.next - 2, epoch: this.log.epochAt(pr.next - 2) ?? 0 };
      pr.backTo(this.log.lastIndexWithEpochAtMost(hint.index, hint.epoch) + 1);
    } else {
      pr.acknowledged(m.match);
      // a learner that holds everything becomes a voter once this entry, written after it came back, commits
      if (pr.learner && pr.match >= this.log.lastIndex() && pr.promotedAt === 0) {
        pr.promotedAt = this.append(PROMOTE, { node: m.from, disk: m.disk } satisfies PromoteData, null).index;
      }
      this.maybeCommit();
    }
    this.sendAppends();
  }

  /** Commits the highest index a majority stored, if this host wrote it: earlier epochs' entries commit with it (Raft §5.4.2). */
  maybeCommit(): boolean {
    const matches = this.cfg.voters.map((v) => {
      if (v === this.cfg.self) return this.log.stableIndex(); // the host counts what is on its own disk, like anyone
      const pr = this.progress.get(v);
      return pr && !pr.learner ? pr.match : 0;
    });
    const index = majorityIndex(matches);
    if (index <= this.log.commit || index < this.firstOfEpoch) return false;
    this.log.commit = index;
    return true;
  }

  /** Appends unanswered for resendTicks were lost on the way: send them again. */
  tick(): void {
    for (const pr of this.progress.values()) {
      if (pr.inflight > 0 && this.now() - pr.lastSent >= this.cfg.resendTicks) pr.backTo(pr.match + 1);
    }
    this.sendAppends();
  }

  /** What was sent while `node` was unreachable may be lost. */
  resume(node: string): void {
    const pr = this.progress.get(node);
    if (pr) pr.backTo(pr.match + 1);
    this.sendAppends();
  }

  /** `node` restarted: it may hold less than it said. */
  restarted(node: string): void {
    this.progress.get(node)?.reset(this.log.lastIndex());
    this.sendAppends();
  }

  sendAppends(): void {
    const last = this.log.lastIndex();
    for (const [to, pr] of this.progress) {
      if (this.down.has(to)) continue;
      while (pr.next <= last && pr.canSend(this.cfg.maxInflight)) {
        const entries = this.log.slice(pr.next, last, this.cfg.maxAppendEntries, this.cfg.maxAppendBytes, this.cfg.entryBytes);
        this.sendAppend(to, pr, entries);
        pr.next += entries.length;
      }
      // nothing new for it: an empty append carries the commit on, or asks what it holds when that is not known (after a restart)
      if (pr.inflight === 0 && (pr.match < pr.next - 1 || this.commitKnownBy(pr) < this.log.commit)) this.sendAppend(to, pr, []);
    }
  }

  /**
   * How far the follower knows the log is committed: what it was sent, or (two copies being a
   * majority) what it holds on disk of this epoch that it knows this node holds too.
   */
  private commitKnownBy(pr: Progress): number {
    if (!this.appendAfterOwnWrite || pr.learner) return pr.sentCommit;
    const both = Math.min(pr.match, pr.sentHostStored);
    return both >= this.firstOfEpoch ? Math.max(pr.sentCommit, both) : pr.sentCommit; // (no disk read: asked at every touch)
  }

  private sendAppend(to: string, pr: Progress, entries: Entry[]): void {
    const prevIndex = pr.next - 1;
    const last = prevIndex + entries.length;
    const afterOwnWrite = this.appendAfterOwnWrite && last > this.log.stableIndex();
    // sent after this node's write (which covers the whole log as it is now), or now: what is stored already
    const hostStored = afterOwnWrite ? last : Math.min(last, this.log.stableIndex());
    this.send({ type: 'append', from: this.cfg.self, to, epoch: this.epoch, prev: { index: prevIndex, epoch: this.log.epochAt(prevIndex) ?? 0 }, entries, commit: this.log.commit, hostStored }, afterOwnWrite);
    pr.sent(last);
    pr.lastSent = this.now();
    // a follower takes the commit only up to the last entry the append vouches for (Raft's min(leaderCommit, last new))
    pr.sentCommit = Math.max(pr.sentCommit, Math.min(this.log.commit, last));
    pr.sentHostStored = Math.max(pr.sentHostStored, hostStored);
  }
}
