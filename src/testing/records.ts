/** Builders for store records in unit specs: sensible defaults, overridden per test. */
import type { MemberRecord, MessageRecord, RoomRecord } from '../common/store/chat-records';
import type { ChatStore } from '../common/store/chat-store';

export const roomRecord = (over: Partial<RoomRecord> = {}): RoomRecord => ({
  roomId: 'r1',
  roomName: 'general',
  description: null,
  creatorId: 'alice',
  hostNode: 'node1',
  hostEpoch: 1,
  state: 'ACTIVE',
  createdAt: '2026-01-01T00:00:00.000Z',
  lastSequence: 0,
  deletionTxn: null,
  ...over,
});

/** Message `sequenceNumber` of room r1 by alice. */
export const messageRecord = (sequenceNumber: number, over: Partial<MessageRecord> = {}): MessageRecord => ({
  messageId: `m${sequenceNumber}`,
  roomId: 'r1',
  username: 'alice',
  content: `hello ${sequenceNumber}`,
  sequenceNumber,
  timestamp: '2026-01-01T00:00:01.000Z',
  clientMessageId: null,
  ...over,
});

/** alice in room r1, connected through node1. */
export const memberRecord = (over: Partial<MemberRecord> = {}): MemberRecord => ({
  roomId: 'r1',
  username: 'alice',
  nodeId: 'node1',
  joinedAt: '2026-01-01T00:00:00.000Z',
  bootId: null,
  ...over,
});

/** Applies `n` committed messages after the room's last one (r1 unless `over` says), as LogApplier does. */
export const appendMessages = (store: ChatStore, n: number, over: Partial<MessageRecord> = {}): MessageRecord[] => {
  const out: MessageRecord[] = [];
  const roomId = over.roomId ?? 'r1';
  for (let i = 0; i < n; i++) {
    const next = (store.rooms.getRoom(roomId)?.lastSequence ?? 0) + 1;
    const m = messageRecord(next, { messageId: `a${i}-${Math.random()}`, content: `c${i}`, ...over });
    store.messages.insertMessage(m);
    out.push(m);
  }
  return out;
};
