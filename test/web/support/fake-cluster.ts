// A small in-memory stand-in for the chat cluster: several "nodes" (HTTP + WebSocket on their own
// ports) sharing one room state. It speaks the client protocol closely enough to exercise the web
// client's rendering and reconnect logic without the real server. The required e2e tests run
// against real nodes (cluster.e2e-spec.ts); this one backs page.e2e-spec.ts.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { PUBLIC_DIR } from './browser';

interface Msg {
  message_id: string;
  room_id: string;
  username: string;
  content: string;
  sequence_number: number;
  timestamp: string;
}

interface Room {
  room_id: string;
  room_name: string;
  description: string | null;
  creator_id: string;
  admin_node: string;
  members: Set<string>;
  messages: Msg[];
  sent: Map<string, Msg>;
}

interface Conn {
  ws: WebSocket;
  node: FakeNode;
  username: string | null;
  rooms: Set<string>;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

export class FakeCluster {
  readonly rooms = new Map<string, Room>();
  readonly conns = new Set<Conn>();
  readonly nodes: FakeNode[] = [];

  async start(count: number): Promise<this> {
    for (let i = 1; i <= count; i++) {
      const node = new FakeNode(this, `node${i}`);
      await node.listen();
      this.nodes.push(node);
    }
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  broadcast(roomId: string, type: string, data: unknown, except?: Conn): void {
    const text = JSON.stringify({ type, data });
    for (const c of this.conns) if (c !== except && c.rooms.has(roomId) && c.node.up) c.ws.send(text);
  }

  /** Adds a message as if someone sent it (used to make history). */
  post(roomId: string, username: string, content: string): Msg {
    const room = this.rooms.get(roomId)!;
    const m: Msg = {
      message_id: randomUUID(),
      room_id: roomId,
      username,
      content,
      sequence_number: room.messages.length + 1,
      timestamp: new Date().toISOString(),
    };
    room.messages.push(m);
    this.broadcast(roomId, 'new_message', m);
    return m;
  }

  findRoom(name: string): Room | undefined {
    return [...this.rooms.values()].find((r) => r.room_name === name);
  }
}

export class FakeNode {
  up = false;
  port = 0;
  private http: Server | null = null;
  private wss: WebSocketServer | null = null;

  constructor(
    private readonly cluster: FakeCluster,
    readonly nodeId: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(port = this.port): Promise<void> {
    const http = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/cluster') {
        // Like a real node's GET /cluster: itself first, then the others with their client URLs.
        const others = this.cluster.nodes.filter((n) => n !== this);
        const view = (n: FakeNode, status: string) => ({ node_id: n.nodeId, client_url: `ws://${n.address}/`, status });
        const nodes = [view(this, 'self'), ...others.map((n) => view(n, n.up ? 'healthy' : 'failed'))];
        res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(JSON.stringify({ node_id: this.nodeId, nodes }));
        return;
      }
      const file = path === '/' ? 'index.html' : path.slice(1);
      if (!/^[\w.-]+$/.test(file)) {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = readFileSync(join(PUBLIC_DIR, file));
        res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws) => this.onConnection(ws));
    await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    this.port = (http.address() as AddressInfo).port;
    this.http = http;
    this.wss = wss;
    this.up = true;
  }

  /** Stops abruptly: every client socket of this node is cut. */
  async stop(): Promise<void> {
    this.up = false;
    for (const c of [...this.cluster.conns]) if (c.node === this) c.ws.terminate();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.http = null;
    this.wss = null;
  }

  private onConnection(ws: WebSocket): void {
    const conn: Conn = { ws, node: this, username: null, rooms: new Set() };
    this.cluster.conns.add(conn);
    ws.on('message', (raw) => this.onFrame(conn, String(raw)));
    ws.on('close', () => {
      this.cluster.conns.delete(conn);
      for (const roomId of conn.rooms) {
        const room = this.cluster.rooms.get(roomId);
        if (!room || !conn.username) continue;
        const stillHere = [...this.cluster.conns].some((c) => c.username === conn.username && c.rooms.has(roomId));
        if (stillHere) continue;
        room.members.delete(conn.username);
        this.cluster.broadcast(roomId, 'member_left', {
          room_id: roomId,
          username: conn.username,
          member_count: room.members.size,
          timestamp: new Date().toISOString(),
          reason: 'User disconnected',
        });
      }
    });
  }

  private onFrame(conn: Conn, raw: string): void {
    const reply = (type: string, data: unknown) => conn.ws.send(JSON.stringify({ type, data }));
    let frame: { type?: string; data?: Record<string, any> };
    try {
      frame = JSON.parse(raw);
    } catch {
      reply('error', { success: false, message: 'Invalid JSON format', error_code: 'INVALID_JSON' });
      return;
    }
    const d = frame.data ?? {};
    const c = this.cluster;
    const room = typeof d.room_id === 'string' ? c.rooms.get(d.room_id) : undefined;
    const now = () => new Date().toISOString();
    switch (frame.type) {
      case 'discover_rooms':
        reply('global_rooms_list', {
          rooms: [...c.rooms.values()].map((r) => ({
            room_id: r.room_id,
            room_name: r.room_name,
            description: r.description,
            member_count: r.members.size,
            admin_node: r.admin_node,
            creator_id: r.creator_id,
          })),
          total_count: c.rooms.size,
          nodes_queried: c.nodes.map((n) => n.nodeId),
          nodes_available: c.nodes.filter((n) => n.up).map((n) => n.nodeId),
          nodes_unavailable: c.nodes.filter((n) => !n.up).map((n) => n.nodeId),
        });
        return;
      case 'create_room': {
        if (c.findRoom(d.room_name)) {
          reply('room_created', { success: false, message: `Room with name '${d.room_name}' already exists` });
          return;
        }
        const r: Room = {
          room_id: randomUUID(),
          room_name: d.room_name,
          description: d.description ?? null,
          creator_id: d.creator_id,
          admin_node: this.nodeId,
          members: new Set(),
          messages: [],
          sent: new Map(),
        };
        c.rooms.set(r.room_id, r);
        reply('room_created', { room_id: r.room_id, room_name: r.room_name, admin_node: r.admin_node, members: [], created_at: now() });
        return;
      }
      case 'join_room': {
        if (!room) {
          reply('join_room_error', { room_id: d.room_id ?? '', error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
          return;
        }
        const isNew = !room.members.has(d.username);
        room.members.add(d.username);
        conn.username = d.username;
        if (isNew) {
          c.broadcast(room.room_id, 'member_joined', { room_id: room.room_id, username: d.username, member_count: room.members.size, timestamp: now() }, conn);
        }
        conn.rooms.add(room.room_id);
        const last = room.messages.length;
        reply('join_room_success', {
          room_id: room.room_id,
          room_name: room.room_name,
          description: room.description,
          members: [...room.members],
          member_count: room.members.size,
          admin_node: room.admin_node,
          creator_id: room.creator_id,
          first_sequence: last ? 1 : 0,
          last_sequence: last,
        });
        const since = typeof d.since_sequence === 'number' ? d.since_sequence : null;
        const history = since === null ? room.messages.slice(-100) : room.messages.filter((m) => m.sequence_number > since);
        for (const m of history) reply('new_message', m);
        return;
      }
      case 'send_message': {
        if (!room) {
          reply('message_error', { room_id: d.room_id, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
          return;
        }
        if (!conn.rooms.has(room.room_id)) {
          reply('message_error', { room_id: d.room_id, error: 'You are not a member of this room', error_code: 'NOT_MEMBER' });
          return;
        }
        if (typeof d.content !== 'string' || [...d.content].length > 5000 || d.content === '') {
          reply('message_error', { room_id: d.room_id, error: 'Message content too long (max 5000 characters)', error_code: 'INVALID_CONTENT' });
          return;
        }
        const key = `${d.username}\u0000${d.client_message_id}`;
        const dup = d.client_message_id ? room.sent.get(key) : undefined;
        const m = dup ?? c.post(room.room_id, d.username, d.content);
        if (d.client_message_id) room.sent.set(key, m);
        reply('message_sent', {
          room_id: room.room_id,
          message_id: m.message_id,
          sequence_number: m.sequence_number,
          timestamp: m.timestamp,
          client_message_id: d.client_message_id,
          ...(dup ? { duplicate: true } : {}),
        });
        return;
      }
      case 'get_history': {
        if (!room) {
          reply('history_error', { room_id: d.room_id, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
          return;
        }
        const limit = Math.min(200, d.limit ?? 50);
        let list = room.messages;
        if (typeof d.after_sequence === 'number') list = list.filter((m) => m.sequence_number > d.after_sequence).slice(0, limit);
        else {
          if (typeof d.before_sequence === 'number') list = list.filter((m) => m.sequence_number < d.before_sequence);
          list = list.slice(-limit);
        }
        const last = room.messages.length;
        reply('history', {
          room_id: room.room_id,
          messages: list,
          has_more: list.length > 0 && list[0].sequence_number > 1,
          first_sequence: last ? 1 : 0,
          last_sequence: last,
        });
        return;
      }
      case 'leave_room':
        conn.rooms.delete(d.room_id);
        if (room) {
          room.members.delete(d.username);
          c.broadcast(room.room_id, 'member_left', { room_id: room.room_id, username: d.username, member_count: room.members.size, timestamp: now() });
        }
        reply('leave_room_success', { room_id: d.room_id, username: d.username });
        return;
      case 'delete_room': {
        if (!room) {
          reply('delete_room_failed', { room_id: d.room_id, reason: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
          return;
        }
        if (room.creator_id !== d.username) {
          reply('delete_room_failed', { room_id: d.room_id, reason: 'Only the room creator can delete the room', error_code: 'UNAUTHORIZED' });
          return;
        }
        const tx = randomUUID();
        const id = room.room_id;
        c.broadcast(id, 'delete_room_initiated', { room_id: id, initiator: d.username, status: 'in_progress', transaction_id: tx });
        if (!conn.rooms.has(id)) reply('delete_room_initiated', { room_id: id, initiator: d.username, status: 'in_progress', transaction_id: tx });
        setTimeout(() => {
          if (c.nodes.some((n) => !n.up)) {
            const down = c.nodes.find((n) => !n.up)!.nodeId;
            c.broadcast(id, 'delete_room_cancelled', { room_id: id, transaction_id: tx });
            reply('delete_room_failed', { room_id: id, reason: `Node ${down} timed out`, error_code: 'DELETION_FAILED', transaction_id: tx });
            return;
          }
          reply('delete_room_success', { room_id: id, transaction_id: tx, message: 'Room deleted successfully' });
          c.broadcast(id, 'room_deleted', { room_id: id, room_name: room.room_name, message: `Room '${room.room_name}' has been deleted`, transaction_id: tx });
          c.rooms.delete(id);
          for (const k of c.conns) k.rooms.delete(id);
        }, 150);
        return;
      }
      default:
        reply('error', { success: false, message: `Unknown message type: ${frame.type}`, error_code: 'UNKNOWN_TYPE' });
    }
  }
}
