import type { MemberRecord, MessageRecord, RoomRecord, RoomState, TombstoneRecord } from './chat-records';

/** SQLite rows (snake_case columns) to store records. */
export type Row = Record<string, unknown>;

export const toRoom = (r: Row): RoomRecord => ({
  roomId: r.room_id as string,
  roomName: r.room_name as string,
  description: (r.description as string | null) ?? null,
  creatorId: r.creator_id as string,
  hostNode: r.host_node as string,
  hostEpoch: Number(r.host_epoch),
  state: r.state as RoomState,
  createdAt: r.created_at as string,
  lastSequence: Number(r.last_sequence),
  deletionTxn: (r.deletion_txn as string | null) ?? null,
});
export const toMessage = (r: Row): MessageRecord => ({
  messageId: r.message_id as string,
  roomId: r.room_id as string,
  username: r.username as string,
  content: r.content as string,
  sequenceNumber: Number(r.sequence_number),
  timestamp: r.timestamp as string,
  clientMessageId: (r.client_message_id as string | null) ?? null,
  // only when set, so a message never changed looks as it did before edits existed
  ...(r.edited_at ? { editedAt: r.edited_at as string } : {}),
  ...(r.deleted_at ? { deletedAt: r.deleted_at as string } : {}),
});
export const memberKey = (roomId: string, username: string) => `${roomId}\u0000${username}`;
export const toMember = (r: Row): MemberRecord => ({
  roomId: r.room_id as string,
  username: r.username as string,
  nodeId: r.node_id as string,
  joinedAt: r.joined_at as string,
  bootId: (r.boot_id as string | null) ?? null,
});
export const toTombstone = (r: Row): TombstoneRecord => ({
  roomId: r.room_id as string,
  roomName: r.room_name as string,
  hostNode: r.host_node as string,
  deletedAt: r.deleted_at as string,
  transactionId: (r.transaction_id as string | null) ?? null,
});
