import type { MemberRecord, MessageRecord, RoomMeta, RoomRecord, RoomState } from '../store/chat-records';
import type { HostedRoomState, MemberWire, MessageWire, RoomWire } from './peer-wire';
import type { ChatMessage, RoomInfo, RoomSummary } from './client-wire';

/** Conversions between store records (camelCase) and wire shapes (snake_case, reference key order). */
export const toChatMessage = (m: MessageRecord): ChatMessage => ({
  message_id: m.messageId,
  room_id: m.roomId,
  username: m.username,
  content: m.content,
  sequence_number: m.sequenceNumber,
  timestamp: m.timestamp,
  // after the reference's keys, and only when set: an unchanged message is exactly the reference's shape
  ...(m.editedAt ? { edited_at: m.editedAt } : {}),
  ...(m.deletedAt ? { deleted: true as const, deleted_at: m.deletedAt } : {}),
});

export const toMessageWire = (m: MessageRecord): MessageWire => ({ ...toChatMessage(m), client_message_id: m.clientMessageId });

export const fromMessageWire = (m: ChatMessage & { client_message_id?: string | null }): MessageRecord => ({
  messageId: String(m.message_id),
  roomId: String(m.room_id),
  username: String(m.username),
  content: String(m.content),
  sequenceNumber: Number(m.sequence_number),
  timestamp: String(m.timestamp),
  clientMessageId: m.client_message_id ?? null,
  ...(typeof m.edited_at === 'string' ? { editedAt: m.edited_at } : {}),
  ...(typeof m.deleted_at === 'string' ? { deletedAt: m.deleted_at } : {}),
});

export const toRoomSummary = (r: RoomRecord, memberCount: number): RoomSummary => ({
  room_id: r.roomId,
  room_name: r.roomName,
  description: r.description,
  member_count: memberCount,
  admin_node: r.hostNode,
  creator_id: r.creatorId,
});

export const toRoomInfo = (r: RoomRecord, members: MemberRecord[]): RoomInfo => ({
  room_id: r.roomId,
  room_name: r.roomName,
  description: r.description,
  members: members.map((m) => m.username),
  member_count: members.length,
  admin_node: r.hostNode,
});

export const toRoomWire = (r: RoomRecord): RoomWire => ({
  room_id: r.roomId,
  room_name: r.roomName,
  description: r.description,
  creator_id: r.creatorId,
  host_node: r.hostNode,
  host_epoch: r.hostEpoch,
  state: r.state,
  created_at: r.createdAt,
  last_sequence: r.lastSequence,
  deletion_txn: r.deletionTxn,
});

export const fromRoomWire = (w: RoomWire): RoomMeta => ({
  roomId: String(w.room_id),
  roomName: String(w.room_name),
  description: w.description ?? null,
  creatorId: String(w.creator_id),
  hostNode: String(w.host_node),
  hostEpoch: Number(w.host_epoch) || 1,
  state: (w.state as RoomState) ?? 'ACTIVE',
  createdAt: String(w.created_at),
  deletionTxn: w.deletion_txn ?? null,
});

export const toMemberWire = (m: MemberRecord): MemberWire => ({ username: m.username, node_id: m.nodeId, joined_at: m.joinedAt });

export const toHostedRoomState = (r: RoomRecord, members: MemberRecord[]): HostedRoomState => ({
  ...toRoomWire(r),
  members: members.map(toMemberWire),
});
