import WebSocket from 'ws';
import { sleep } from '../../src/cluster/node-process';

export interface Frame {
  type: string;
  data: Record<string, any>;
}

/**
 * A real `ws` client for e2e tests. Frames are queued as they arrive; `next` takes them in order,
 * `nextOf` skips to the first frame of a type (keeping the skipped ones in `skipped`).
 */
export class TestClient {
  readonly frames: Frame[] = [];
  private queue: Frame[] = [];
  private waiting: (() => void) | null = null;
  closeCode: number | null = null;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      this.frames.push(frame);
      this.queue.push(frame);
      this.waiting?.();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        this.waiting?.();
        resolve(code);
      }),
    );
  }

  static connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(type: string, data?: unknown): void {
    this.ws.send(JSON.stringify(data === undefined ? { type } : { type, data }));
  }

  sendRaw(payload: string | Buffer, binary = false): void {
    this.ws.send(payload, { binary });
  }

  /** The next frame, whatever it is. */
  async next(timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closeCode !== null) throw new Error(`connection closed (${this.closeCode}) while waiting for a frame`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting = () => (clearTimeout(t), resolve());
      });
      this.waiting = null;
    }
    return this.queue.shift()!;
  }

  /** The next frame of `type`, skipping others. */
  async nextOf(type: string, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (frame.type === type) return frame;
    }
  }

  /** Resolves with every frame that arrives within `ms` (for asserting that nothing else comes). */
  async drain(ms = 300): Promise<Frame[]> {
    await sleep(ms);
    const out = this.queue;
    this.queue = [];
    return out;
  }

  /** Sends a request and returns the first frame of one of `types`. */
  async request(type: string, data: unknown, ...replyTypes: string[]): Promise<Frame> {
    this.send(type, data);
    const deadline = Date.now() + 10000;
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (replyTypes.includes(frame.type)) return frame;
    }
  }

  close(): Promise<number> {
    if (this.closeCode === null) this.ws.close();
    return this.closed;
  }
}

/** The clients a suite opens, closed together (from its afterEach or afterAll). */
export class ClientPool {
  private readonly clients: TestClient[] = [];

  async connect(url: string, options?: WebSocket.ClientOptions): Promise<TestClient> {
    return this.add(await TestClient.connect(url, options));
  }

  /** A client opened elsewhere, to be closed with the others. */
  add(client: TestClient): TestClient {
    this.clients.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close().catch(() => undefined)));
  }
}
