import { CommitWaits } from '../../src/modules/rooms/consensus/commit-waits';
import type { CoreConfig, Leadership, ProposeResult } from '../../src/modules/rooms/consensus/core-types';
import { MESSAGE, type Entry, type HardState, type LogPosition } from '../../src/modules/rooms/consensus/log-entry';
import { RejoinStatus } from '../../src/modules/rooms/consensus/rejoin-status';
import { RoomLogCore } from '../../src/modules/rooms/consensus/room-log-core';
import type { RoomMessage } from '../../src/modules/rooms/consensus/room-messages';
import { entryInCore } from './core-peek';
import { FailureDetector, type PeerNews } from './failure-detector';
import type { LogHistory } from './log-history';
import type { Ack, Packet } from './packets';
import { RoomDisk, type NodeDisk } from './sim-disk';
import type { SimParams } from './sim-params';
import type { SimRandom } from './sim-random';
import type { SimStats } from './sim-stats';

/** One Ready's write: one atomic disk write, then `persisted(mark)`, then the messages it held back. */
export interface PendingWrite {
  readonly room: string;
  readonly hardState: HardState | null;
  readonly persist: { readonly from: number; readonly entries: readonly Entry[] } | null;
  readonly mark: LogPosition | null;
  readonly afterPersist: readonly RoomMessage[];
}

/** What a node process gets from the simulated world. */
export interface NodeEnv {
  readonly rng: SimRandom;
  readonly params: SimParams;
  readonly nodes: readonly string[];
  readonly history: LogHistory;
  readonly stats: SimStats;
  now(): number;
  /** Sends from the process `boot`: what has not left the machine when it crashes is lost. */
  send(p: Packet, boot: number): void;
  /** The process `boot` crashed now. */
  crashed(boot: number): void;
  /** The disk finishes `w` at `at` (steps), unless this boot ends first. */
  scheduleWrite(node: string, boot: number, at: number, w: PendingWrite): void;
  /** A new boot number, higher than every earlier one (a boot timestamp). */
  nextBoot(): number;
  diskLatency(): number;
  /** This node reported a new role, host or epoch for a room. */
  leadershipChanged(node: string, host: boolean): void;
  note(line: string): void;
}

type RequestPacket = Extract<Packet, { kind: 'request' }>;

/**
 * A running node: the production adapter's job done in the simulator. Its cores (one per room),
 * failure detector, rejoin status, clients' commit waits and disk queue are volatile: a crash
 * drops them and a restart rebuilds the cores from the disk.
 */
export class NodeProcess {
  readonly cores = new Map<string, RoomLogCore>();
  private readonly waits = new Map<string, CommitWaits>();
  private readonly detector: FailureDetector;
  private readonly rejoin: RejoinStatus;
  private readonly peers: readonly string[];
  private readonly heartbeatPhase: number;
  /** The disk completes writes in order: the next one finishes after this. */
  private diskBusyUntil = 0;

  constructor(
    readonly self: string,
    readonly boot: number,
    readonly disk: NodeDisk,
    private readonly env: NodeEnv,
  ) {
    this.peers = env.nodes.filter((n) => n !== self);
    this.detector = new FailureDetector(this.peers, env.now(), env.params.silenceTicks * env.params.tickSteps, disk.peerBoots);
    this.rejoin = new RejoinStatus(disk.rejoin === 'undecided', disk.id, this.peers);
    this.heartbeatPhase = env.rng.int(0, env.params.heartbeatTicks - 1);
    for (const [room, rd] of disk.rooms) {
      const core = this.openCore(room, rd);
      if (rd.lastKnownHost === self) core.campaign(); // it hosted the room before the restart
    }
    this.drainAll();
    this.sendHeartbeats();
  }

  /** A fresh disk takes part in nothing until it knows whether it is rejoining. */
  get decided(): boolean {
    return this.disk.rejoin !== 'undecided';
  }

  // --- inputs ------------------------------------------------------------------------------------

  onTick(tick: number): void {
    const p = this.env.params;
    if ((tick + this.heartbeatPhase) % p.heartbeatTicks === 0) this.sendHeartbeats();
    this.sweep();
    for (const core of this.cores.values()) if (p.tickAll || !core.quiet) core.tick();
    this.drainAll();
  }

  /** Back from a long pause: timers fire first (the silence is noticed), then what queued up is read. */
  onResume(): void {
    this.sweep();
    for (const core of this.cores.values()) core.tick();
    this.drainAll();
  }

  onPacket(p: Packet): void {
    if (p.kind === 'room') {
      // sent by a process of the peer that is gone: it is nobody's host any more. Any other packet is
      // heard like a heartbeat: a host followed on the word of its append must be known by its boot,
      // or its restart would go unnoticed (seed 258640)
      const news = this.detector.heard(p.from, p.boot, this.env.now());
      if (news === 'stale') return;
      this.peerNews(p.from, news);
      if (!this.disk.takesRoomMessage(p.from, p.disk)) return; // a disk since replaced, or not heard yet (room_log_json refused)
      this.onRoomMessage(p.room, p.msg, p.birth);
    } else if (p.kind === 'heartbeat') this.onHeartbeat(p);
    else if (p.kind === 'request') this.onRequest(p);
  }

  found(room: string): ProposeResult {
    const core = this.createRoom(room, false, this.disk.knownDisks(this.self)); // a new room: nothing about it was forgotten
    const res = core.found({ kind: 'room', data: { room }, clientKey: null });
    this.drain(room);
    return res;
  }

  completeWrite(w: PendingWrite): void {
    const rd = this.disk.rooms.get(w.room)!;
    rd.write(w.hardState, w.persist);
    this.env.history.diskWritten(this.self, w.room, rd, w.persist ? w.persist.from : null);
    this.cores.get(w.room)!.persisted(w.mark);
    for (const m of w.afterPersist) this.sendRoom(w.room, m);
    this.drain(w.room);
  }

  private onRoomMessage(room: string, msg: RoomMessage, birth: Readonly<Record<string, string>>): void {
    if (!this.decided) return;
    let core = this.cores.get(room);
    if (!core) {
      if (msg.type !== 'append' && msg.type !== 'preVote' && msg.type !== 'vote') return;
      // a rejoining disk is a learner of rooms that may predate it: those whose founder did not know it yet
      core = this.createRoom(room, this.disk.rejoin === 'rejoining' && birth[this.self] !== this.disk.id, birth);
    }
    core.step(msg);
    this.drain(room);
  }

  private onHeartbeat(p: Extract<Packet, { kind: 'heartbeat' }>): void {
    if (this.detector.boot(p.from, p.boot) === 'stale') return; // outlived the process that sent it
    this.disk.heardDisk(p.from, p.disk);
    if (!this.decided) {
      this.rejoin.heard(p.from, p.remembered);
      if (this.rejoin.decided) {
        this.disk.rejoin = this.rejoin.rejoining ? 'rejoining' : 'clean';
        this.env.note(`${this.self} disk ${this.disk.id} decided ${this.disk.rejoin}`);
      }
    }
    this.peerNews(p.from, this.detector.heard(p.from, p.boot, this.env.now()));
  }

  private peerNews(peer: string, news: PeerNews): void {
    if (news !== 'restarted' && news !== 'up') return;
    this.env.note(`${this.self} sees ${peer} ${news}`);
    for (const core of this.cores.values()) {
      if (news === 'restarted') core.peerRestarted(peer);
      else core.peerUp(peer);
    }
    this.drainAll();
  }

  private onRequest(p: RequestPacket): void {
    const core = this.decided ? this.cores.get(p.room) : undefined;
    if (!core) return this.reply(p, null, null);
    const res = core.propose({ kind: MESSAGE, data: { key: p.key }, clientKey: p.key });
    this.answerProposal(p, res, core);
    this.drain(p.room);
  }

  /** A client is told only once its entry committed where it was written; a retry of a committed entry at once. */
  answerProposal(p: RequestPacket, res: ProposeResult, core: RoomLogCore): void {
    if (!res.ok) return this.reply(p, null, res.leader);
    if (res.duplicate && res.index <= core.state.commit) return this.reply(p, { sequence: res.sequence, index: res.index, epoch: res.epoch }, null);
    this.waitsOf(p.room).wait(res.index, res.epoch, (o) => {
      if (o.committed) this.reply(p, { sequence: o.entry.sequence, index: o.entry.index, epoch: o.entry.epoch }, null);
      else this.reply(p, null, core.state.leader);
    });
  }

  // --- outputs -----------------------------------------------------------------------------------

  private drainAll(): void {
    for (const room of this.cores.keys()) this.drain(room);
  }

  private drain(room: string): void {
    const core = this.cores.get(room)!;
    const rd = this.disk.rooms.get(room)!;
    while (core.hasReady()) {
      const r = core.ready();
      for (const m of r.messages) this.sendRoom(room, m);
      // afterPersist answers wait for this write even when it stores nothing: it queues behind the earlier ones
      if (r.hardState || r.persist || r.afterPersist.length > 0) this.write({ room, hardState: r.hardState, persist: r.persist, mark: r.mark, afterPersist: r.afterPersist });
      if (r.committed.length > 0) this.apply(room, rd, r.committed);
      if (r.leadership) this.leadershipChanged(room, rd, core, r.leadership);
    }
    if (core.caughtUp) this.env.history.caughtUp(this.self, room, core.state.epoch, rd.applied); // the production adapter serves requests now (RoomLogs.serve)
  }

  private write(w: PendingWrite): void {
    const empty = !w.hardState && !w.persist; // only answers waiting for the writes before them: no disk work of its own
    const at = Math.max(this.diskBusyUntil, this.env.now()) + (empty ? 0 : this.env.diskLatency());
    this.diskBusyUntil = at;
    this.env.scheduleWrite(this.self, this.boot, at, w);
  }

  private apply(room: string, rd: RoomDisk, entries: readonly Entry[]): void {
    for (const e of entries) {
      this.env.history.applied(this.self, room, e);
      rd.applied = e.index;
    }
    this.waits.get(room)?.committed(entries);
  }

  private leadershipChanged(room: string, rd: RoomDisk, core: RoomLogCore, l: Leadership): void {
    rd.lastKnownHost = l.leader;
    this.env.note(`${this.self} ${room} ${l.role} e${l.epoch} leader=${l.leader}`);
    if (l.role === 'leader') this.env.stats.elections++;
    this.env.history.leadership(this.self, room, l, (i) => entryInCore(core, i));
    if (l.role !== 'leader') this.waits.get(room)?.hostLost();
    this.env.leadershipChanged(this.self, l.role === 'leader');
  }

  private sendRoom(room: string, msg: RoomMessage): void {
    this.env.send({ kind: 'room', from: this.self, to: msg.to, room, msg, boot: this.boot, disk: this.disk.id, birth: this.disk.rooms.get(room)!.birth }, this.boot);
  }

  private reply(p: RequestPacket, ack: Ack | null, leader: string | null): void {
    this.env.send({ kind: 'reply', from: this.self, to: p.from, room: p.room, key: p.key, ack, leader }, this.boot);
  }

  private sendHeartbeats(): void {
    for (const to of this.peers) this.env.send({ kind: 'heartbeat', from: this.self, to, boot: this.boot, disk: this.disk.id, remembered: this.disk.rememberedFor(to) }, this.boot);
  }

  private sweep(): void {
    for (const peer of this.detector.sweep(this.env.now())) {
      this.env.note(`${this.self} sees ${peer} down`);
      for (const core of this.cores.values()) core.peerDown(peer);
    }
  }

  // --- rooms -------------------------------------------------------------------------------------

  private createRoom(room: string, learner: boolean, birth: Readonly<Record<string, string>>): RoomLogCore {
    const rd = new RoomDisk(learner, birth);
    this.disk.rooms.set(room, rd);
    this.env.note(`${this.self} creates ${room}${learner ? ' as learner' : ''}`);
    return this.openCore(room, rd);
  }

  private openCore(room: string, rd: RoomDisk): RoomLogCore {
    const p = this.env.params;
    const cfg: CoreConfig = {
      self: this.self,
      disk: this.disk.id,
      voters: this.env.nodes,
      electionTicks: p.electionTicks,
      resendTicks: p.resendTicks,
      maxAppendEntries: p.maxAppendEntries,
      maxAppendBytes: 1 << 16,
      maxInflight: p.maxInflight,
      entryBytes: () => 64,
      random: () => this.env.rng.float(),
    };
    const core = new RoomLogCore(cfg, rd, rd.hardState, rd.applied, rd.lastKnownHost);
    for (const peer of this.detector.down) core.peerDown(peer);
    this.cores.set(room, core);
    return core;
  }

  private waitsOf(room: string): CommitWaits {
    let w = this.waits.get(room);
    if (!w) this.waits.set(room, (w = new CommitWaits()));
    return w;
  }
}
