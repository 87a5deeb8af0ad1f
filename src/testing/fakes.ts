/** Hand-written fakes shared by unit specs: a settable clock and a recording WebSocket. */
import type { WebSocket } from 'ws';
import { Clock } from '../common/clock/clock';
import { ChatError } from '../common/errors/chat-error';
import type { ServerEventMap, ServerEventType } from '../common/protocol/client-wire';

/**
 * A clock that only moves when the test says so: `advance` lets real time pass (both sources
 * move), `jump` steps the wall clock alone, either way, as an operator or NTP setting it does.
 */
export class FakeClock extends Clock {
  /** The monotonic source; starts far from 0 so nothing can mistake it for "never". */
  mono = 1_000_000;

  constructor(public ms = Date.parse('2026-01-01T00:00:00.000Z')) {
    super();
  }
  override now(): number {
    return this.ms;
  }
  override monotonic(): number {
    return this.mono;
  }
  advance(ms: number): void {
    this.ms += ms;
    this.mono += ms;
  }
  jump(ms: number): void {
    this.ms += ms;
  }
}

type Frame = { [K in ServerEventType]: { type: K; data: ServerEventMap[K] } }[ServerEventType];

/** Records what the server did to one client socket; `emit('pong')` plays the client's answer. */
export class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  readonly frames: Frame[] = [];
  pings = 0;
  terminated = false;
  closed: { code: number; reason: string } | null = null;
  private readonly handlers = new Map<string, (() => void)[]>();

  send(text: string): void {
    this.frames.push(JSON.parse(text) as Frame);
  }
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  on(event: string, handler: () => void): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return this;
  }
  emit(event: string): void {
    for (const h of this.handlers.get(event) ?? []) h();
  }

  /** The payloads of every frame of one type, in the order they were sent. */
  sent<K extends ServerEventType>(type: K): ServerEventMap[K][] {
    return this.frames.filter((f) => f.type === type).map((f) => f.data as ServerEventMap[K]);
  }
  get types(): ServerEventType[] {
    return this.frames.map((f) => f.type);
  }
  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }
}

/** The code of the ChatError `fn` throws (or rejects with); fails the test on anything else. */
export async function chatErrorCode(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ChatError) return e.code;
    throw e;
  }
  throw new Error('expected a ChatError, but nothing was thrown');
}
