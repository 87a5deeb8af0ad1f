// What a node wrote to disk: a (stopped or running) node's chat.db read directly, for checks that must
// not trust the node's own answers.
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../../src/cluster/node-process';

export interface DbSnapshot {
  rooms: { room_id: string; room_name: string; host_node: string; last_sequence: number; state: string }[];
  messages: (room: string) => { sequence_number: number; message_id: string; content: string }[];
  tombstones: { room_id: string; room_name: string; host_node: string }[];
  members: { room_id: string; username: string; node_id: string }[];
}

/** Reads a (stopped) node's chat.db directly. */
export function readDb(node: NodeProcess): DbSnapshot {
  const file = path.join(node.env.DATA_DIR, 'chat.db');
  const db = new DatabaseSync(file, { readOnly: false });
  try {
    const rooms = db.prepare('SELECT room_id, room_name, host_node, last_sequence, state FROM rooms').all() as unknown as DbSnapshot['rooms'];
    const tombstones = db.prepare('SELECT room_id, room_name, host_node FROM tombstones').all() as unknown as DbSnapshot['tombstones'];
    const members = db.prepare('SELECT room_id, username, node_id FROM members').all() as unknown as DbSnapshot['members'];
    const byRoom = new Map<string, { sequence_number: number; message_id: string; content: string }[]>();
    for (const r of rooms) {
      byRoom.set(
        r.room_id,
        db.prepare('SELECT sequence_number, message_id, content FROM messages WHERE room_id = ? ORDER BY sequence_number').all(r.room_id) as never,
      );
    }
    const orphan = Number((db.prepare('SELECT count(*) AS n FROM messages WHERE room_id NOT IN (SELECT room_id FROM rooms)').get() as { n: number }).n);
    if (orphan > 0) throw new Error(`${file}: ${orphan} message(s) of rooms that do not exist`);
    return { rooms: rooms.map((r) => ({ ...r, last_sequence: Number(r.last_sequence) })), messages: (id) => byRoom.get(id) ?? [], tombstones, members };
  } finally {
    db.close();
  }
}
