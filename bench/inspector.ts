// A tiny Chrome DevTools Protocol client for nodes started with --inspect=127.0.0.1:<port>:
// exact heap figures (after a forced GC) and CPU profiles without restarting the node.
import WebSocket from 'ws';

export class InspectorClient {
  private nextId = 1;
  private pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static async connect(inspectPort: number): Promise<InspectorClient> {
    const res = await fetch(`http://127.0.0.1:${inspectPort}/json/list`);
    const [target] = (await res.json()) as { webSocketDebuggerUrl: string }[];
    const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 1 << 30 });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new InspectorClient(ws);
  }

  call<T = any>(method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** V8 heap in use after a full GC, in bytes. */
  async heapUsedAfterGc(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const usage = await this.call<{ usedSize: number }>('Runtime.getHeapUsage');
    return usage.usedSize;
  }

  async startProfiling(samplingIntervalUs = 200): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await this.call('Profiler.start');
  }

  /** Returns the .cpuprofile object. */
  async stopProfiling(): Promise<unknown> {
    const { profile } = await this.call<{ profile: unknown }>('Profiler.stop');
    return profile;
  }

  close(): void {
    this.ws.close();
  }
}
