import type { AckLedger } from './ack-ledger';
import type { Packet } from './packets';
import type { SimRandom } from './sim-random';
import type { SimStats } from './sim-stats';

interface Outstanding {
  readonly room: string;
  readonly key: string;
  target: string;
  /** Send (again) at this step. */
  sendAt: number;
  attempts: number;
  /** The last attempt was refused (rather than left unanswered). */
  refused: boolean;
}

interface Client {
  readonly id: string;
  /** Resend when no answer came within this many steps. */
  readonly patience: number;
  outstanding: Outstanding | null;
  sent: number;
  nextAt: number;
  ackedAt: number | null;
}

export interface ClientEnv {
  readonly rng: SimRandom;
  readonly nodes: readonly string[];
  readonly ledger: AckLedger;
  readonly stats: SimStats;
  now(): number;
  send(p: Packet): void;
  note(line: string): void;
}

/**
 * Chat members sending messages, one at a time each, with a unique client key per message, to the
 * node they believe hosts the room. Refused, they go where the refusal points (or anywhere else);
 * unanswered for their patience, they send the same key again, maybe elsewhere. Every ack goes to
 * the ledger. Probes are one message per room sent after the faults, for the liveness check.
 */
export class ClientPool {
  private readonly clients: Client[] = [];
  private readonly probes = new Map<string, Client>();
  private readonly known: string[] = [];
  /** New messages are started only while this holds (the faults are on). */
  sending = true;

  constructor(
    count: number,
    private readonly env: ClientEnv,
  ) {
    for (let i = 1; i <= count; i++) this.clients.push(this.client(`c${i}`));
  }

  /** A room whose founding committed: clients may write to it now. */
  roomKnown(room: string): void {
    if (!this.known.includes(room)) this.known.push(room);
  }

  /** One probe message for each room not probed yet, now. */
  probe(rooms: readonly string[]): void {
    for (const room of rooms) {
      if (this.probes.has(room)) continue;
      const c = this.client(`probe-${room}`);
      this.probes.set(room, c);
      this.start(c, room);
    }
  }

  /** Rooms whose probe was not acknowledged yet (all of them before probe()). */
  unprobed(rooms: readonly string[]): string[] {
    return rooms.filter((r) => this.probes.get(r)?.ackedAt == null);
  }

  /** Clients still waiting for an ack, as `client:key`. */
  waiting(): string[] {
    return [...this.clients, ...this.probes.values()].filter((c) => c.outstanding).map((c) => `${c.id}:${c.outstanding!.key}`);
  }

  onTick(): void {
    const now = this.env.now();
    for (const c of [...this.clients, ...this.probes.values()]) {
      const o = c.outstanding;
      if (o) {
        if (now >= o.sendAt) this.sendOut(c, o);
      } else if (this.sending && this.known.length > 0 && now >= c.nextAt && !c.id.startsWith('probe')) {
        this.start(c, this.env.rng.pick(this.known));
      }
    }
  }

  onReply(p: Extract<Packet, { kind: 'reply' }>): void {
    const c = this.clients.find((x) => x.id === p.to) ?? [...this.probes.values()].find((x) => x.id === p.to);
    if (!c) return;
    if (p.ack) {
      this.env.stats.acks++;
      this.env.ledger.acked(p.room, p.key, p.ack);
      if (c.outstanding?.key === p.key) {
        c.outstanding = null;
        c.ackedAt = this.env.now();
        c.nextAt = this.env.now() + this.env.rng.int(1, 60);
      }
      return;
    }
    const o = c.outstanding;
    if (!o || o.key !== p.key) return; // an answer to an attempt long given up
    o.target = p.leader !== null && p.leader !== p.from ? p.leader : this.elsewhere(p.from);
    o.refused = true;
    o.sendAt = this.env.now() + this.env.rng.int(2, 20);
  }

  private client(id: string): Client {
    return { id, patience: this.env.rng.int(40, 200), outstanding: null, sent: 0, nextAt: this.env.rng.int(0, 50), ackedAt: null };
  }

  private start(c: Client, room: string): void {
    c.sent++;
    c.outstanding = { room, key: `${c.id}.${c.sent}`, target: this.env.rng.pick(this.env.nodes), sendAt: this.env.now(), attempts: 0, refused: false };
    this.sendOut(c, c.outstanding);
  }

  private sendOut(c: Client, o: Outstanding): void {
    if (o.attempts > 0 && !o.refused && this.env.rng.chance(0.5)) o.target = this.elsewhere(o.target); // no answer: try another node
    o.attempts++;
    o.refused = false;
    o.sendAt = this.env.now() + c.patience;
    this.env.send({ kind: 'request', from: c.id, to: o.target, room: o.room, key: o.key });
  }

  private elsewhere(node: string): string {
    const others = this.env.nodes.filter((n) => n !== node);
    return this.env.rng.pick(others);
  }
}
