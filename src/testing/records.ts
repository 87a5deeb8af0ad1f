/** Builders for store records in unit specs: sensible defaults, overridden per test. */
import type { RoomRecord } from '../common/store/chat-records';

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
