// Reconnect policy: exponential backoff with jitter, and rotation through the known nodes.
// No DOM access (unit-tested under node).

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0..1: fraction of the delay that is randomised. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 300;
    this.maxMs = opts.maxMs ?? 8000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
    this.random = opts.random ?? Math.random;
  }

  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next attempt; grows each call until reset(). */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, this.attempt));
    this.attempt += 1;
    const spread = base * this.jitter;
    return Math.max(0, Math.round(base - spread + this.random() * 2 * spread));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Cycles through node addresses; starts at the one the user connected to. */
export class NodeRotation {
  private index = 0;
  private readonly list: string[];

  constructor(nodes: readonly string[], start?: string) {
    if (nodes.length === 0) throw new Error('NodeRotation needs at least one node');
    this.list = [...nodes];
    if (start !== undefined) {
      const i = this.list.indexOf(start);
      if (i >= 0) this.index = i;
    }
  }

  get nodes(): readonly string[] {
    return this.list;
  }

  get current(): string {
    return this.list[this.index];
  }

  /** Appends nodes not yet in the list (e.g. learned from the cluster); returns those added. */
  add(nodes: readonly string[]): string[] {
    const added = nodes.filter((n, i) => !this.list.includes(n) && nodes.indexOf(n) === i);
    this.list.push(...added);
    return added;
  }

  /** Moves to the next node (wrapping) and returns it. */
  advance(): string {
    this.index = (this.index + 1) % this.list.length;
    return this.current;
  }
}

/**
 * Plans reconnect attempts: the first retries the same node (a brief blip), then every attempt
 * moves to the next node in the list, waiting the backoff delay in between.
 */
export class ReconnectPlanner {
  private tries = 0;
  constructor(
    readonly rotation: NodeRotation,
    readonly backoff: Backoff = new Backoff(),
  ) {}

  /** Next node to try and how long to wait first. */
  next(): { node: string; delayMs: number } {
    const delayMs = this.backoff.next();
    const node = this.tries === 0 ? this.rotation.current : this.rotation.advance();
    this.tries += 1;
    return { node, delayMs };
  }

  /** Call when a connection succeeded. */
  connected(): void {
    this.tries = 0;
    this.backoff.reset();
  }
}

/**
 * Parses a user-entered node list ("host:port, ws://host:port/, ...") into unique `host:port`
 * strings. `fallback` (e.g. location.host) is used when nothing valid was entered.
 */
export function parseNodeList(input: string, fallback?: string): string[] {
  const out: string[] = [];
  for (const raw of input.split(/[\s,;]+/)) {
    const node = normalizeNode(raw);
    if (node && !out.includes(node)) out.push(node);
  }
  if (out.length === 0 && fallback) {
    const f = normalizeNode(fallback);
    if (f) out.push(f);
  }
  return out;
}

/** `ws://host:port/x` or `http://host:port` or `host:port` -> `host:port` (null if invalid). */
export function normalizeNode(raw: string): string | null {
  let s = raw.trim();
  if (!s) return null;
  s = s.replace(/^(wss?|https?):\/\//i, '');
  s = s.replace(/\/.*$/, '');
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(s)) return null;
  const port = /:(\d{1,5})$/.exec(s);
  if (port && (Number(port[1]) < 1 || Number(port[1]) > 65535)) return null;
  return s.toLowerCase();
}

/** The node's WebSocket URL; a client token (AUTH_MODE=token) goes in its `token` query parameter. */
export function wsUrl(node: string, secure = false, token?: string): string {
  return `${secure ? 'wss' : 'ws'}://${node}/${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** The username (`sub`) a client token names, read without checking it (the node checks), or null. */
export function tokenSubject(token: string): string | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const sub = (JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub !== '' ? sub : null;
  } catch {
    return null;
  }
}

/**
 * The client addresses (`host:port`) in a node's `GET /cluster` answer, peers that are up first;
 * entries without a usable client_url are skipped. Tolerates any JSON: a bad answer yields [].
 */
export function nodesFromCluster(body: unknown): string[] {
  const list = (body as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(list)) return [];
  const rank = (status: unknown) => (status === 'self' || status === 'healthy' ? 0 : status === 'degraded' || status === 'unknown' ? 1 : 2);
  return list
    .filter((n): n is { client_url: string; status?: unknown } => typeof n?.client_url === 'string')
    .sort((a, b) => rank(a.status) - rank(b.status))
    .map((n) => normalizeNode(n.client_url))
    .filter((n): n is string => n !== null);
}
