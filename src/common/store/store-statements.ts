import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** Every statement ChatStore runs, prepared once when the store opens. */
export function prepareStatements(db: DatabaseSync): Record<string, StatementSync> {
  const p = (s: string) => db.prepare(s);
  return {
    getRoom: p('SELECT * FROM rooms WHERE room_id = ?'),
    roomByName: p('SELECT * FROM rooms WHERE room_name = ? LIMIT 1'),
    allRooms: p('SELECT * FROM rooms ORDER BY created_at, room_id'),
    countByHost: p('SELECT count(*) AS n FROM rooms WHERE host_node = ?'),
    roomsByHost: p('SELECT * FROM rooms WHERE host_node = ? ORDER BY created_at, room_id'),
    roomsPage: p('SELECT * FROM rooms WHERE room_id > ? ORDER BY room_id LIMIT ?'),
    insertRoom: p(`INSERT INTO rooms (room_id, room_name, description, creator_id, host_node, host_epoch, state, created_at, last_sequence, deletion_txn)
      VALUES (@roomId, @roomName, @description, @creatorId, @hostNode, @hostEpoch, @state, @createdAt, @lastSequence, @deletionTxn)`),
    upsertRoomMeta: p(`INSERT INTO rooms (room_id, room_name, description, creator_id, host_node, host_epoch, state, created_at, last_sequence, deletion_txn)
      VALUES (@roomId, @roomName, @description, @creatorId, @hostNode, @hostEpoch, @state, @createdAt, 0, @deletionTxn)
      ON CONFLICT(room_id) DO UPDATE SET room_name = excluded.room_name, description = excluded.description,
        creator_id = excluded.creator_id, created_at = excluded.created_at, host_node = excluded.host_node, host_epoch = excluded.host_epoch, state = excluded.state, deletion_txn = excluded.deletion_txn`),
    setHost: p('UPDATE rooms SET host_node = ?, host_epoch = ? WHERE room_id = ?'),
    setState: p('UPDATE rooms SET state = ?, deletion_txn = ? WHERE room_id = ?'),
    setLastSequence: p('UPDATE rooms SET last_sequence = ? WHERE room_id = ?'),
    insertMessage: p(`INSERT INTO messages (room_id, sequence_number, message_id, username, content, timestamp, client_message_id)
      VALUES (@roomId, @sequenceNumber, @messageId, @username, @content, @timestamp, @clientMessageId)`),
    byClientId: p('SELECT * FROM messages WHERE room_id = ? AND username = ? AND client_message_id = ?'),
    after: p('SELECT * FROM messages WHERE room_id = ? AND sequence_number > ? ORDER BY sequence_number LIMIT ?'),
    before: p('SELECT * FROM messages WHERE room_id = ? AND sequence_number < ? ORDER BY sequence_number DESC LIMIT ?'),
    firstSeq: p('SELECT min(sequence_number) AS s FROM messages WHERE room_id = ?'),
    addMember: p(`INSERT INTO members (room_id, username, node_id, joined_at, boot_id) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(room_id, username) DO UPDATE SET node_id = excluded.node_id, boot_id = excluded.boot_id`),
    getMember: p('SELECT * FROM members WHERE room_id = ? AND username = ?'),
    removeMember: p('DELETE FROM members WHERE room_id = ? AND username = ?'),
    members: p('SELECT * FROM members WHERE room_id = ? ORDER BY joined_at, username'),
    memberCount: p('SELECT count(*) AS n FROM members WHERE room_id = ?'),
    membersOnNode: p(`SELECT m.* FROM members m JOIN rooms r ON r.room_id = m.room_id
      WHERE m.node_id = ? AND r.host_node = ? ORDER BY m.room_id, m.username`),
    clearMembers: p('DELETE FROM members WHERE room_id = ?'),
    nodesOfUsername: p('SELECT DISTINCT node_id FROM members WHERE username = ?'),
    deleteMessages: p('DELETE FROM messages WHERE room_id = ?'),
    deleteRoom: p('DELETE FROM rooms WHERE room_id = ?'),
    insertTombstone: p(`INSERT OR REPLACE INTO tombstones (room_id, room_name, host_node, deleted_at, transaction_id)
      VALUES (@roomId, @roomName, @hostNode, @deletedAt, @transactionId)`),
    tombstone: p('SELECT * FROM tombstones WHERE room_id = ?'),
    tombstonesPage: p('SELECT * FROM tombstones WHERE room_id > ? ORDER BY room_id LIMIT ?'),
  };
}
