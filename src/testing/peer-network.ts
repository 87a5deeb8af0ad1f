import type { NodeDisk } from '../modules/peers/node-disk';
import type { RoomLogPeers } from '../modules/rooms/replication/room-log-peers';
import type { WireItem } from '../modules/rooms/replication/room-log-wire';

/**
 * Carries room_log_json calls between the nodes of one process; a node in `cut` is unreachable
 * both ways. As RoomLogRpcController does, a call from a disk its callee does not take is refused.
 */
export class PeerNetwork {
  private readonly nodes = new Map<string, RoomLogPeers>();
  private readonly disks = new Map<string, NodeDisk>();
  readonly cut = new Set<string>();
  /** Batches for which this says true are lost on the way (the call fails). */
  lose: (from: string, to: string, items: WireItem[]) => boolean = () => false;
  /** What a batch becomes on the way (e.g. as a node of an earlier version would have sent it). */
  alter: (from: string, to: string, items: WireItem[]) => WireItem[] = (_from, _to, items) => items;
  /**
   * Batches for which this says true stay on the way until release(): a call (`from` the caller),
   * or a reply (`from` the callee, which may be gone by the time it arrives). Not in flight meanwhile.
   */
  hold: (from: string, to: string, items: WireItem[]) => boolean = () => false;
  private readonly held: (() => void)[] = [];
  /** Every batch delivered, in order (what went over the wire). */
  readonly delivered: { from: string; to: string; items: WireItem[] }[] = [];
  inFlight = 0;

  attach(nodeId: string, peers: RoomLogPeers, disk: NodeDisk): void {
    this.nodes.set(nodeId, peers);
    this.disks.set(nodeId, disk);
  }
  detach(nodeId: string): void {
    this.nodes.delete(nodeId);
  }
  reachable(nodeId: string): boolean {
    return this.nodes.has(nodeId) && !this.cut.has(nodeId);
  }

  /** Lets every batch held so far arrive (each then meets the network as it is now). */
  release(): void {
    for (const arrive of this.held.splice(0)) arrive();
  }

  async roomLog(from: string, to: string, json: string, fromDisk?: string): Promise<string> {
    let items = JSON.parse(json) as WireItem[];
    if (this.hold(from, to, items)) await new Promise<void>((arrive) => this.held.push(arrive));
    const target = this.nodes.get(to);
    if (!target || this.cut.has(from) || this.cut.has(to)) throw new Error(`connect ECONNREFUSED (${to})`);
    items = this.alter(from, to, items);
    if (this.lose(from, to, items)) throw new Error(`socket hang up (${to})`); // lost before it arrived: the callee learns nothing of it
    const refusal = this.disks.get(to)!.refusal(from, fromDisk);
    if (refusal) throw new Error(`room_log_json: ${refusal}; not taken`);
    this.inFlight++;
    let reply: string;
    try {
      this.delivered.push({ from, to, items });
      reply = await target.receive(from, JSON.stringify(items));
    } finally {
      this.inFlight--;
    }
    if (this.hold(to, from, JSON.parse(reply) as WireItem[])) await new Promise<void>((arrive) => this.held.push(arrive));
    if (this.cut.has(from) || this.cut.has(to)) throw new Error(`socket hang up (${to})`);
    return reply;
  }
}
