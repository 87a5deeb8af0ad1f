// Request/reply matching: a request waits for the first frame of a type it expects (for its room
// and client message id); it fails on timeout, or at once when the connection drops.

import type { Frame, RequestFrame, ServerEventType } from '../protocol';
import type { Timers } from './timers';

export class DisconnectedError extends Error {
  constructor() {
    super('Not connected');
  }
}

/** The reply a request waits for. */
export interface Expectation {
  types: readonly ServerEventType[];
  roomId?: string;
  clientId?: string;
  /** Runs synchronously on the reply, before any frame that follows it. */
  onFrame?: (frame: Frame) => void;
}

interface Pending extends Expectation {
  /** The request's own type (an `error` frame that names it goes to it). */
  request: string;
  resolve: (frame: Frame) => void;
  reject: (err: Error) => void;
  timer: unknown;
}

export class PendingRequests {
  private readonly pending: Pending[] = [];
  private readonly send: (frame: RequestFrame) => boolean;
  private readonly timers: Timers;
  private readonly timeoutMs: number;

  constructor(send: (frame: RequestFrame) => boolean, timers: Timers, timeoutMs: number) {
    this.send = send;
    this.timers = timers;
    this.timeoutMs = timeoutMs;
  }

  request(frame: RequestFrame, expect: Expectation): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      if (!this.send(frame)) {
        reject(new DisconnectedError());
        return;
      }
      const entry: Pending = { ...expect, request: frame.type, resolve, reject, timer: null };
      entry.timer = this.timers.set(() => {
        const i = this.pending.indexOf(entry);
        if (i >= 0) this.pending.splice(i, 1);
        reject(new Error(`No reply to ${frame.type}`));
      }, this.timeoutMs);
      this.pending.push(entry);
    });
  }

  /** Hands the frame to the request waiting for it; false if none is. */
  settle(frame: Frame): boolean {
    const p = this.match(frame);
    if (!p) return false;
    this.pending.splice(this.pending.indexOf(p), 1);
    this.timers.clear(p.timer);
    p.onFrame?.(frame);
    p.resolve(frame);
    return true;
  }

  failAll(): void {
    const all = this.pending.splice(0);
    for (const p of all) {
      this.timers.clear(p.timer);
      p.reject(new DisconnectedError());
    }
  }

  private match(frame: Frame): Pending | undefined {
    const d = frame.data ?? {};
    if (frame.type === 'error') {
      // an error that names its request (edit_message and delete_message say `request`; a node that does not
      // know a type says so) goes to the oldest request of that type, or to none; any other to the oldest request
      const named = typeof d.request === 'string' ? d.request : d.error_code === 'UNKNOWN_TYPE' ? /^Unknown message type: (.*)$/.exec(String(d.message ?? ''))?.[1] : undefined;
      return named !== undefined ? this.pending.find((p) => p.request === named) : this.pending[0];
    }
    return this.pending.find(
      (p) =>
        (p.types as readonly string[]).includes(frame.type) &&
        (p.roomId === undefined || d.room_id === undefined || d.room_id === p.roomId) &&
        (p.clientId === undefined || d.client_message_id === undefined || d.client_message_id === p.clientId),
    );
  }
}
