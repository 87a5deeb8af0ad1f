import type { ChatMessage } from '../../../common/protocol/client-wire';
import type { MessageRecord } from '../../../common/store/chat-records';
import type { ClientRegistry } from '../../members/client-registry';
import { CommitLedger } from './commit-ledger';

const message = (sequenceNumber: number): MessageRecord => ({
  messageId: `m${sequenceNumber}`,
  roomId: 'r1',
  username: 'alice',
  content: `#${sequenceNumber}`,
  sequenceNumber,
  timestamp: '2026-12-01T00:00:00.000Z',
  clientMessageId: null,
});

describe(`${CommitLedger.name} after a step-down`, () => {
  let shown: ChatMessage[];
  let sut: CommitLedger;

  beforeEach(() => {
    shown = [];
    sut = new CommitLedger({ deliverMessage: (m: ChatMessage) => shown.push(m) } as unknown as ClientRegistry);
  });

  it('shows a message and resolves its sender only once a majority stored it', async () => {
    let stored!: () => void;
    const acked = sut.track(message(5), new Promise<void>((r) => (stored = r)));
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 5, logEpoch: 1 })).toBe(4);
    stored();
    await acked;
    expect(shown.map((m) => m.sequence_number)).toEqual([5]);
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 5, logEpoch: 1 })).toBe(5);
  });

  it('after stepping down keeps the unconfirmed tail hidden until the copy follows a newer epoch', async () => {
    const acks = [5, 6].map((q) => sut.track(message(q), new Promise<void>(() => undefined)).catch((e: Error) => e));
    sut.dropRoom('r1', 'Room moved to node2 (epoch 3); retry', { adminNode: 'node2', hostEpoch: 3 }, 2);

    expect((await Promise.all(acks)).map((e) => (e as { code?: string }).code)).toEqual(['ADMIN_NODE_UNAVAILABLE', 'ADMIN_NODE_UNAVAILABLE']);
    // still epoch 2's copy (not aligned with node2 yet): a replay stops before #5, which no majority confirmed
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 6, logEpoch: 2 })).toBe(4);
    // aligned with epoch 3 (the tail dropped or confirmed by the new host): everything stored may be shown
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 9, logEpoch: 3 })).toBe(9);
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 9, logEpoch: 2 })).toBe(9);
    expect(shown).toEqual([]);
  });

  it('hides nothing after a step-down with nothing pending', () => {
    sut.dropRoom('r1', 'moved', { adminNode: 'node2', hostEpoch: 3 }, 2);
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 6, logEpoch: 2 })).toBe(6);
  });
});
