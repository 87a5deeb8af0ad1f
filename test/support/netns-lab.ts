import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const inNs = (ns: string, ...args: string[]) => ip('netns', 'exec', ns, 'ip', ...args);

/**
 * Separate hosts on this machine for partition tests: one network namespace per node, each with
 * its own address on a bridge in this namespace, so the test's clients reach every node while
 * links between nodes are cut for real (a blackhole route on both ends drops the packets in the
 * kernel; the node sees timeouts, exactly as on a broken network). Needs root.
 */
export class NetnsLab {
  private readonly cuts = new Set<string>();
  /** One-way blocks: `from-to-port`. */
  private readonly blocks = new Set<string>();

  private constructor(
    private readonly tag: string,
    readonly namespaces: string[],
    readonly addresses: string[],
  ) {}

  /** Why the lab cannot run here, or null. */
  static unavailable(): string | null {
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    try {
      ip('netns', 'list');
      return null;
    } catch (e) {
      return `ip netns does not work here: ${(e as Error).message}`;
    }
  }

  /** `describe` where labs work, else `describe.skip` after a warning that says why (`<suite> skipped: <why>`). */
  static describeOrSkip(suite: string): jest.Describe {
    const unavailable = NetnsLab.unavailable();
    if (!unavailable) return describe;
    console.warn(`${suite} skipped: ${unavailable}`);
    return describe.skip;
  }

  static create(count: number): NetnsLab {
    const tag = randomBytes(3).toString('hex');
    // a /24 of its own per lab, so labs of concurrent runs never share addresses
    const subnet = `10.213.${1 + (parseInt(tag, 16) % 250)}`;
    const bridge = `cb${tag}`;
    const namespaces = Array.from({ length: count }, (_, i) => `chat-${tag}-${i + 1}`);
    const addresses = namespaces.map((_, i) => `${subnet}.${11 + i}`);
    const lab = new NetnsLab(tag, namespaces, addresses);
    try {
      ip('link', 'add', bridge, 'type', 'bridge');
      ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
      ip('link', 'set', bridge, 'up');
      namespaces.forEach((ns, i) => {
        const [outer, inner] = [`cv${tag}${i + 1}a`, `cv${tag}${i + 1}b`];
        ip('netns', 'add', ns);
        ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
        ip('link', 'set', outer, 'master', bridge, 'up');
        ip('link', 'set', inner, 'netns', ns);
        inNs(ns, 'link', 'set', 'lo', 'up');
        inNs(ns, 'link', 'set', inner, 'name', 'eth0');
        inNs(ns, 'addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0');
        inNs(ns, 'link', 'set', 'eth0', 'up');
      });
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  /** Cuts the link between hosts a and b (1-based) in both directions; clients still reach both. */
  cut(a: number, b: number): void {
    for (const [from, to] of [[a, b], [b, a]]) {
      const key = `${from}-${to}`;
      if (this.cuts.has(key)) continue;
      inNs(this.namespaces[from - 1], 'route', 'add', 'blackhole', `${this.addresses[to - 1]}/32`);
      this.cuts.add(key);
    }
  }

  /** Cuts host `n` off from every other host (its clients can still reach it). */
  isolate(n: number): void {
    for (let other = 1; other <= this.namespaces.length; other++) if (other !== n) this.cut(n, other);
  }

  /** Splits the hosts into two sides that cannot reach each other. */
  partition(side: number[], other: number[]): void {
    for (const a of side) for (const b of other) this.cut(a, b);
  }

  /**
   * Host `from` can no longer open TCP connections to `port` on host `to`, while `to` still reaches
   * `from` and gets its answers (a one-way firewall): a policy rule in `from`'s namespace.
   */
  blockConnections(from: number, to: number, port: number): void {
    const key = `${from}-${to}-${port}`;
    if (this.blocks.has(key)) return;
    inNs(this.namespaces[from - 1], 'rule', 'add', 'to', `${this.addresses[to - 1]}/32`, 'ipproto', 'tcp', 'dport', String(port), 'blackhole');
    this.blocks.add(key);
  }

  /** Removes every cut and (unless `keepBlocks`) every one-way block. */
  heal(keepBlocks = false): void {
    for (const key of keepBlocks ? [] : this.blocks) {
      const [from, to, port] = key.split('-');
      inNs(this.namespaces[Number(from) - 1], 'rule', 'del', 'to', `${this.addresses[Number(to) - 1]}/32`, 'ipproto', 'tcp', 'dport', port, 'blackhole');
    }
    if (!keepBlocks) this.blocks.clear();
    for (const key of this.cuts) {
      const [from, to] = key.split('-').map(Number);
      inNs(this.namespaces[from - 1], 'route', 'del', 'blackhole', `${this.addresses[to - 1]}/32`);
    }
    this.cuts.clear();
  }

  /** Removes every namespace, link and the bridge (processes inside must be stopped first). */
  destroy(): void {
    for (const ns of this.namespaces) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created, or already gone
      }
    }
    try {
      ip('link', 'del', `cb${this.tag}`);
    } catch {
      // not created
    }
  }
}
