// One WebSocket to one node at a time: opens it, parses incoming frames, and when it drops,
// reconnects (to the next node after a backoff) until closed for good.

import { Backoff, NodeRotation, ReconnectPlanner, wsUrl } from '../reconnect';
import type { Frame, RequestFrame } from '../protocol';
import type { ConnStatus, StatusEvent } from './session-events';
import type { Timers } from './timers';

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export interface ConnectionOptions {
  nodes: string[];
  /** Node to connect to first (defaults to the first of `nodes`). */
  start?: string;
  createSocket: SocketFactory;
  secure?: boolean;
  /** Client token for a node in AUTH_MODE=token, sent on every (re)connect. */
  token?: string;
  backoff?: Backoff;
  timers: Timers;
}

export interface ConnectionHooks {
  onStatus(ev: StatusEvent): void;
  /** The socket is open; `resumed` after a reconnect. */
  onOpen(node: string, resumed: boolean): void;
  onFrame(frame: Frame): void;
  /** The socket is gone: nothing sent on it will be answered. */
  onDisconnected(): void;
  /** A reconnect is planned: rooms are no longer joined until it opens. */
  onReconnectPlanned(): void;
}

const OPEN = 1;

export class Connection {
  private currentStatus: ConnStatus = 'closed';
  private currentNode: string;
  private socket: SocketLike | null = null;
  private readonly opts: ConnectionOptions;
  private readonly hooks: ConnectionHooks;
  private readonly planner: ReconnectPlanner;
  private reconnectTimer: unknown = null;
  private closedByUser = false;
  private everOpened = false;
  private nextNode: string | null = null;

  constructor(opts: ConnectionOptions, hooks: ConnectionHooks) {
    this.opts = opts;
    this.hooks = hooks;
    const rotation = new NodeRotation(opts.nodes, opts.start);
    this.currentNode = rotation.current;
    this.planner = new ReconnectPlanner(rotation, opts.backoff ?? new Backoff());
  }

  get status(): ConnStatus {
    return this.currentStatus;
  }

  get node(): string {
    return this.currentNode;
  }

  get isOpen(): boolean {
    return this.currentStatus === 'open';
  }

  connect(): void {
    this.closedByUser = false;
    this.open(this.currentNode, 'connecting');
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.closedByUser = true;
    if (this.reconnectTimer !== null) this.opts.timers.clear(this.reconnectTimer);
    this.reconnectTimer = null;
    const s = this.socket;
    this.socket = null;
    this.hooks.onDisconnected();
    if (s) {
      s.onclose = s.onerror = s.onmessage = s.onopen = null;
      try {
        s.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.setStatus('closed');
  }

  /** Skips the backoff wait: tries the next node at once. */
  reconnectNow(): void {
    if (this.closedByUser || this.reconnectTimer === null) return;
    this.opts.timers.clear(this.reconnectTimer);
    this.reconnectTimer = null;
    this.open(this.nextNode ?? this.currentNode, 'reconnecting');
  }

  /** Drops the current connection as if the network failed. */
  drop(): void {
    this.socket?.close(4000, 'client reconnect');
  }

  /** Adds nodes to reconnect to (e.g. learned from the cluster); returns those that were new. */
  learnNodes(nodes: readonly string[]): string[] {
    return this.planner.rotation.add(nodes);
  }

  get nodes(): readonly string[] {
    return this.planner.rotation.nodes;
  }

  /** Sends if open; false if not (the frame is not queued). */
  send(frame: RequestFrame): boolean {
    const s = this.socket;
    if (!s || s.readyState !== OPEN || this.currentStatus !== 'open') return false;
    s.send(JSON.stringify(frame));
    return true;
  }

  private open(node: string, status: ConnStatus): void {
    this.currentNode = node;
    this.setStatus(status);
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(wsUrl(node, this.opts.secure, this.opts.token));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.planner.connected();
      const resumed = this.everOpened;
      this.everOpened = true;
      this.setStatus('open');
      this.hooks.onOpen(node, resumed);
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      const frame = parseFrame(ev.data);
      if (frame) this.hooks.onFrame(frame);
    };
    socket.onerror = () => undefined; // a close event always follows
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.hooks.onDisconnected();
      if (this.closedByUser) return;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.closedByUser || this.reconnectTimer !== null) return;
    this.hooks.onReconnectPlanned();
    const { node, delayMs } = this.planner.next();
    this.nextNode = node;
    this.currentStatus = 'reconnecting';
    this.hooks.onStatus({ kind: 'status', status: 'reconnecting', node, delayMs });
    this.reconnectTimer = this.opts.timers.set(() => {
      this.reconnectTimer = null;
      this.open(node, 'reconnecting');
    }, delayMs);
  }

  private setStatus(status: ConnStatus): void {
    this.currentStatus = status;
    this.hooks.onStatus({ kind: 'status', status, node: this.currentNode });
  }
}

function parseFrame(raw: unknown): Frame | null {
  let frame: Frame;
  try {
    frame = JSON.parse(typeof raw === 'string' ? raw : String(raw)) as Frame;
  } catch {
    return null;
  }
  if (!frame || typeof frame.type !== 'string') return null;
  return frame;
}
