import type { AckLedger } from './failover-ledger';
import type { FailoverMember } from './failover-member';
import type { SeededRandom } from './seeded-random';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GIVE_UP_AFTER = 3;

export interface ChatterOptions {
  /** Seeded pacing and message sizes; without it: 20 ms between messages, no padding. */
  rng?: SeededRandom;
  /** Pause between two messages, ms (drawn from rng). */
  paceMs?: [number, number];
}

/**
 * A member sending to one room for as long as the scenario runs, one message in flight, each with
 * its own client_message_id, retried with the same id (FailoverMember.send) until acknowledged.
 * It gives up after GIVE_UP_AFTER sends in a row ended without an ack (each is in `failures`).
 */
export class Chatter {
  /** Sends that ended without an ack (a refusal that is not retryable, or the member's deadline). */
  readonly failures: string[] = [];
  /** Joins again after the host dropped this member (its node was cut off from the host). */
  rejoins = 0;
  private stopping = false;
  private failedInARow = 0;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    readonly member: FailoverMember,
    readonly room: string,
    private readonly ledger: AckLedger,
    private readonly options: ChatterOptions = {},
  ) {}

  get name(): string {
    return this.member.username;
  }
  start(): this {
    this.loop = this.run();
    return this;
  }
  /** True once it stopped sending after GIVE_UP_AFTER failures in a row. */
  get gaveUp(): boolean {
    return this.failedInARow >= GIVE_UP_AFTER;
  }
  acksSince(t: number) {
    return this.ledger.acksIn(this.room).filter((a) => a.label === this.name && a.at >= t);
  }
  /** Resolves once the message in flight is acknowledged (or its retries gave up). */
  finish(): Promise<void> {
    this.stopping = true;
    return this.loop;
  }

  private async run(): Promise<void> {
    const { rng, paceMs = [20, 20] } = this.options;
    for (let k = 0; !this.stopping && !this.gaveUp; k++) {
      const cmid = `${this.name}-${k}`;
      const content = `${cmid} via ${this.member.node.spec.nodeId} ${'.'.repeat(rng ? rng.int(0, 200) : 0)}`.trimEnd();
      for (let attempt = 1; ; attempt++) {
        try {
          await this.member.send(this.room, content, cmid);
          this.failedInARow = 0;
          break;
        } catch (e) {
          // A host that saw this member's node fail dropped its membership: join again, send the same id again.
          if (/NOT_MEMBER/.test((e as Error).message) && attempt < 5) {
            this.rejoins++;
            await this.member.join(this.room).catch((j: Error) => this.failures.push(j.message));
            continue;
          }
          this.failures.push((e as Error).message);
          this.failedInARow++;
          break;
        }
      }
      await sleep(rng ? rng.int(paceMs[0], paceMs[1]) : paceMs[0]);
    }
  }
}

/** `work`, or a failure naming `what` once `ms` have passed. */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not done within ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
