import { NodeProcess, type NodeEnv, type PendingWrite } from './node-process';
import type { Packet } from './packets';
import { NodeDisk } from './sim-disk';
import type { Sender } from './sim-network';

/** What the world hands a node: a packet that arrived, or one of its disk writes that finished. */
export type NodeEvent = { readonly kind: 'packet'; readonly packet: Packet; readonly sender: Sender | null; readonly sentAt: number } | { readonly kind: 'write'; readonly node: string; readonly boot: number; readonly write: PendingWrite };

/**
 * One simulated machine: a disk that survives crashes (replaced by an empty one when wiped) and
 * the process running on it, if any. A paused process runs nothing (no ticks, no packets, no
 * write completions) and on resuming finds everything that queued up meanwhile.
 */
export class SimNode {
  disk: NodeDisk;
  process: NodeProcess | null = null;
  paused = false;
  private inbox: NodeEvent[] = [];
  private disks = 1;

  constructor(
    readonly id: string,
    private readonly env: NodeEnv,
  ) {
    this.disk = new NodeDisk(`${id}.d1`);
  }

  get up(): boolean {
    return this.process !== null;
  }

  /** Running and not paused. */
  get live(): boolean {
    return this.process !== null && !this.paused;
  }

  start(): void {
    if (this.process) return;
    this.process = new NodeProcess(this.id, this.env.nextBoot(), this.disk, this.env);
    this.env.note(`${this.id} starts boot ${this.process.boot} on ${this.disk.id}`);
  }

  /** Everything volatile is lost, writes not completed included; the disk stays. */
  crash(): void {
    if (this.process) this.env.crashed(this.process.boot);
    this.process = null;
    this.paused = false;
    this.inbox = [];
    this.env.note(`${this.id} crashes`);
  }

  /** A crash that also loses the disk: the node comes back with an empty one, under a new id. */
  wipe(): void {
    this.crash();
    this.disk = new NodeDisk(`${this.id}.d${++this.disks}`);
    this.env.history.diskWiped(this.id);
    this.env.note(`${this.id} wiped: new disk ${this.disk.id}`);
  }

  pause(): void {
    if (!this.process) return;
    this.paused = true;
    this.env.note(`${this.id} pauses`);
  }

  resume(): void {
    if (!this.process || !this.paused) return;
    this.paused = false;
    this.env.note(`${this.id} resumes with ${this.inbox.length} queued`);
    this.process.onResume();
    const queued = this.inbox;
    this.inbox = [];
    for (const ev of queued) this.deliver(ev);
  }

  deliver(ev: NodeEvent): void {
    const p = this.process;
    if (!p) return;
    if (ev.kind === 'write' && ev.boot !== p.boot) return; // written by a process that crashed: lost
    if (this.paused) {
      this.inbox.push(ev);
      return;
    }
    if (ev.kind === 'packet') p.onPacket(ev.packet);
    else p.completeWrite(ev.write);
  }

  tick(tick: number): void {
    if (this.process && !this.paused) this.process.onTick(tick);
  }
}
