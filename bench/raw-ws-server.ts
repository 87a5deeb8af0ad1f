// The raw ceiling: a minimal single-process `ws` broadcast server that answers create_room,
// join_room and send_message with the chat protocol's frame shapes, rooms in memory, no peers,
// no storage, no validation beyond what the load generator needs. Each broadcast frame is
// serialised once and written to every member.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

interface Room {
  id: string;
  name: string;
  members: Set<WebSocket>;
  usernames: Set<string>;
  sequence: number;
}

export function startRawServer(port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const rooms = new Map<string, Room>();
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  });
  const wss = new WebSocketServer({ server: http, maxPayload: 1 << 20 });
  const send = (ws: WebSocket, type: string, data: unknown) => ws.send(JSON.stringify({ type, data }));

  wss.on('connection', (ws) => {
    const joined = new Set<Room>();
    ws.on('message', (raw) => {
      let frame: { type?: string; data?: Record<string, unknown> };
      try {
        frame = JSON.parse(raw.toString());
      } catch {
        return send(ws, 'error', { success: false, message: 'Invalid JSON format' });
      }
      const d = frame.data ?? {};
      switch (frame.type) {
        case 'create_room': {
          const room: Room = { id: randomUUID(), name: String(d.room_name), members: new Set(), usernames: new Set(), sequence: 0 };
          rooms.set(room.id, room);
          return send(ws, 'room_created', {
            room_id: room.id,
            room_name: room.name,
            admin_node: 'raw',
            members: [],
            created_at: new Date().toISOString(),
          });
        }
        case 'join_room': {
          const room = rooms.get(String(d.room_id));
          if (!room) return send(ws, 'join_room_error', { room_id: d.room_id, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
          room.members.add(ws);
          room.usernames.add(String(d.username));
          joined.add(room);
          return send(ws, 'join_room_success', {
            room_id: room.id,
            room_name: room.name,
            members: [...room.usernames],
            member_count: room.usernames.size,
            admin_node: 'raw',
            first_sequence: room.sequence ? 1 : 0,
            last_sequence: room.sequence,
          });
        }
        case 'send_message': {
          const room = rooms.get(String(d.room_id));
          if (!room || !room.members.has(ws)) {
            return send(ws, 'message_error', { room_id: d.room_id, error: 'You are not a member of this room', error_code: 'NOT_MEMBER' });
          }
          const message = {
            message_id: randomUUID(),
            room_id: room.id,
            username: d.username,
            content: d.content,
            sequence_number: ++room.sequence,
            timestamp: new Date().toISOString(),
          };
          const frameText = JSON.stringify({ type: 'new_message', data: message });
          for (const member of room.members) member.send(frameText);
          return send(ws, 'message_sent', {
            room_id: room.id,
            message_id: message.message_id,
            sequence_number: message.sequence_number,
            timestamp: message.timestamp,
          });
        }
        default:
          return send(ws, 'error', { success: false, message: `Unknown message type: ${frame.type}` });
      }
    });
    ws.on('close', () => {
      for (const room of joined) room.members.delete(ws);
    });
  });

  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      const address = http.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            for (const client of wss.clients) client.terminate();
            wss.close();
            http.close(() => done());
          }),
      });
    });
  });
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8090);
  startRawServer(port).then((server) => {
    // The parent process waits for this line before it starts the load.
    console.log(`raw-ws-server listening on 127.0.0.1:${server.port}`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
