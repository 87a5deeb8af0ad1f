import { createHash } from 'node:crypto';

/**
 * Direct conversations (open_direct) have one room per pair of users, whoever opens it first and
 * on whichever node: its id is derived from the sorted pair, so both ends compute the same one. It
 * is shaped like the UUIDs of other rooms (version 8: "custom", RFC 9562) so every check of room
 * ids takes it as it is; the fixed prefix keeps the ids of direct rooms apart from any other use of
 * the hash.
 */
const DIRECT_ROOM_PREFIX = 'chat-direct-room-v1';

export function directRoomId(one: string, other: string): string {
  const [a, b] = [one, other].sort();
  const bytes = createHash('sha256').update(`${DIRECT_ROOM_PREFIX}\u0000${a}\u0000${b}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The one node that may found a direct room: two nodes founding the same room id at once would
 * each write a first entry at epoch 1 (two hosts in one epoch). Every node computes the same
 * founder from the same node list (PEER_NODES agree: the cluster view is checked), so concurrent
 * opens from both ends meet there and the second finds the room. Only the founding waits for that
 * node; once the room exists it fails over like any other.
 */
export function directRoomFounder(roomId: string, nodeIds: readonly string[]): string {
  const sorted = [...nodeIds].sort();
  const pick = createHash('sha256').update(roomId).digest().readUInt32BE(0) % sorted.length;
  return sorted[pick];
}

/** What a direct room is called in room lists: its two people. */
export const directRoomName = (one: string, other: string): string => [one, other].sort().join(' ↔ ');
