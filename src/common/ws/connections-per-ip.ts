/** Open WebSocket connections per client IP, against MAX_CONNECTIONS_PER_IP (0 = no cap). */
export class ConnectionsPerIp {
  private readonly open = new Map<string, number>();
  /** IPs refused since they last went under the cap: the refusal is logged once per episode. */
  private readonly refusing = new Set<string>();

  constructor(readonly max: number) {}

  admit(ip: string): boolean {
    return this.max <= 0 || (this.open.get(ip) ?? 0) < this.max;
  }

  opened(ip: string): void {
    this.open.set(ip, (this.open.get(ip) ?? 0) + 1);
  }

  closed(ip: string): void {
    const n = (this.open.get(ip) ?? 1) - 1;
    if (n <= 0) this.open.delete(ip);
    else this.open.set(ip, n);
    if (n < this.max) this.refusing.delete(ip);
  }

  /** True the first time an IP is refused in an episode. */
  firstRefusal(ip: string): boolean {
    if (this.refusing.has(ip)) return false;
    this.refusing.add(ip);
    return true;
  }

  count(ip: string): number {
    return this.open.get(ip) ?? 0;
  }
}

/** The client's IP as budgets key it: an IPv4 client on a dual-stack socket is its IPv4 address. */
export function clientAddress(req: { socket?: { remoteAddress?: string } } | undefined): string {
  const address = req?.socket?.remoteAddress;
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
