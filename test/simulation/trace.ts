/**
 * What happened in a run, kept two ways: a running hash of every event (two runs of one seed must
 * end with the same hash) and the last few events in words, for the report of a violation.
 */
export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private readonly tail: string[] = [];
  private next = 0;
  events = 0;

  constructor(private readonly keep = 40) {}

  add(line: string): void {
    this.events++;
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
    }
    this.h1 = Math.imul(h1 ^ 0x0a, 0x01000193);
    this.h2 = h2;
    if (this.tail.length < this.keep) this.tail.push(line);
    else this.tail[this.next] = line;
    this.next = (this.next + 1) % this.keep;
  }

  /** 16 hex digits: equal for two runs of one seed, or the simulator is not deterministic. */
  get hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  /** The last events, oldest first. */
  lastEvents(): string[] {
    return this.tail.length < this.keep ? [...this.tail] : [...this.tail.slice(this.next), ...this.tail.slice(0, this.next)];
  }
}
