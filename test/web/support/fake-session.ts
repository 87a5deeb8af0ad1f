// A ChatSession wired to fake sockets and a manual clock, for the web client's unit specs: frames the
// session sends are recorded, frames a node would push are injected, time moves only when told.
import { ChatSession, type SessionEvent, type SocketLike } from '../../../web/src/session/chat-session';
import { Backoff } from '../../../web/src/reconnect';
import type { ChatMessage, Frame } from '../../../web/src/protocol';

export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Frame[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({});
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(type: string, data: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify({ type, data }) });
  }
  last(type?: string): Frame {
    const list = type ? this.sent.filter((f) => f.type === type) : this.sent;
    return list[list.length - 1];
  }
}

/** Manual clock for the session's timers. */
export class Clock {
  private now = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.now + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers[0];
      if (!t || t.at > until) break;
      this.timers.shift();
      this.now = t.at;
      t.fn();
    }
    this.now = until;
  }
}

export const flush = () => new Promise((r) => setImmediate(r));
export const ROOM = '11111111-1111-4111-8111-111111111111';
export const msg = (seq: number, user = 'bob'): ChatMessage => ({
  message_id: `id-${seq}`,
  room_id: ROOM,
  username: user,
  content: `message ${seq}`,
  sequence_number: seq,
  timestamp: '2026-01-01T00:00:00Z',
});

export function setup(nodes = ['n1:1', 'n2:2', 'n3:3'], discoverNodes?: (node: string) => Promise<string[]>) {
  const clock = new Clock();
  const sockets: FakeSocket[] = [];
  const events: SessionEvent[] = [];
  const session = new ChatSession({
    username: 'alice',
    nodes,
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    backoff: new Backoff({ initialMs: 100, jitter: 0 }),
    discoverNodes,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    gapRepairDelayMs: 500,
    onEvent: (e) => events.push(e),
  });
  const shown = () =>
    events.flatMap((e) => (e.kind === 'messages' ? e.messages.map((m) => m.sequence_number) : []));
  const notices = () => events.flatMap((e) => (e.kind === 'notice' ? [e.text] : []));
  const sock = () => sockets[sockets.length - 1];
  return { clock, sockets, events, session, shown, notices, sock };
}

export async function joinFresh(t: ReturnType<typeof setup>, last: number, history: number[]) {
  t.session.connect();
  t.sock().open();
  const p = t.session.join(ROOM, { name: 'general' });
  expect(t.sock().last('join_room').data).toEqual({ room_id: ROOM, username: 'alice', history_limit: 100 });
  t.sock().push('join_room_success', {
    room_id: ROOM,
    room_name: 'general',
    description: 'about things',
    members: ['bob', 'alice'],
    member_count: 2,
    admin_node: 'node1',
    creator_id: 'alice',
    first_sequence: last > 0 ? 1 : 0,
    last_sequence: last,
  });
  for (const s of history) t.sock().push('new_message', msg(s) as unknown as Record<string, unknown>);
  return p;
}
