import * as net from 'node:net';

/**
 * Ports for local clusters. Tests start nodes on ports they picked a moment earlier; a port the
 * OS handed out from its ephemeral range (32768-60999 on Linux) can meanwhile become the local
 * end of some outgoing connection and then the node fails to bind. Picking below that range, and
 * checking each port really binds, takes that race away.
 */
const RANGE_START = 20000;
const RANGE_END = 32000;
let next = RANGE_START + Math.floor(Math.random() * (RANGE_END - RANGE_START));

/** One port nothing listens on, outside the ephemeral range. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePortBlock([0], host);
  return port;
}

/**
 * A base port B such that B+offset is free for every offset (for launchers that derive their
 * ports from one base, like `npm start`'s CLUSTER_BASE_PORT). Returns the ports themselves.
 */
export async function freePortBlock(offsets: number[], host = '127.0.0.1'): Promise<number[]> {
  const span = Math.max(...offsets) + 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (next + span >= RANGE_END) next = RANGE_START;
    const base = next;
    next += span;
    const ports = offsets.map((o) => base + o);
    if ((await Promise.all(ports.map((p) => bindable(p, host)))).every(Boolean)) return ports;
  }
  throw new Error(`no free block of ports for offsets ${offsets.join(',')} between ${RANGE_START} and ${RANGE_END}`);
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
