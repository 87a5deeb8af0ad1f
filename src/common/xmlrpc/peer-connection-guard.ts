import type { Socket } from 'node:net';

/**
 * Caps the connections open on the XML-RPC port. At the cap a new connection evicts the oldest
 * one that has not yet carried a call signed by a peer ("unproven"), so a flood of connections
 * from strangers (idle, slow, or sending junk) can neither exhaust file descriptors nor lock the
 * peers out: a peer's new connection always gets in, and its calls then keep it. With nothing to
 * evict (every connection proven) the new one is closed.
 */
export class PeerConnectionGuard {
  /** Open connections in arrival order, and whether each has proven itself. */
  private readonly open = new Map<Socket, { proven: boolean }>();
  evicted = 0;

  constructor(
    readonly max: number,
    private readonly onEvict: (socket: Socket, openCount: number) => void = () => undefined,
  ) {}

  get size(): number {
    return this.open.size;
  }

  get unproven(): number {
    let n = 0;
    for (const s of this.open.values()) if (!s.proven) n++;
    return n;
  }

  /** A new TCP connection (before any TLS handshake or request). */
  opened(socket: Socket): void {
    if (this.open.size >= this.max) {
      const victim = this.oldestUnproven() ?? socket;
      this.evicted++;
      this.onEvict(victim, this.open.size);
      victim.destroy();
      if (victim === socket) return;
    }
    this.open.set(socket, { proven: false });
    socket.once('close', () => this.open.delete(socket));
  }

  /** The connection carried a call whose peer signature verified: it is never evicted. */
  prove(socket: Socket): void {
    const state = this.open.get(socket);
    if (state) state.proven = true;
  }

  private oldestUnproven(): Socket | undefined {
    for (const [socket, state] of this.open) if (!state.proven) return socket;
    return undefined;
  }
}

/** The TCP socket under a request's socket: the same for HTTP, the TLS socket's transport for HTTPS. */
export function transportOf(socket: Socket): Socket {
  // node:tls keeps the wrapped socket as `_parent` (not public API; without it the TLS socket stands for itself)
  return (socket as Socket & { _parent?: Socket })._parent ?? socket;
}
