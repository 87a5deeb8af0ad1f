import { HealthIndicatorService } from '@nestjs/terminus';
import { randomUUID } from 'node:crypto';
import { ChatStore } from '../../common/store/chat-store';
import { StoreHealthIndicator } from './store.health';

describe(StoreHealthIndicator.name, () => {
  let store: ChatStore;
  let sut: StoreHealthIndicator;
  const db = () => (store as unknown as { db: { exec(sql: string): void } }).db;
  const room = { roomId: 'r1', roomName: 'r1', description: null, creatorId: 'u', hostNode: 'node1', hostEpoch: 1, createdAt: '2026-01-01T00:00:00.000Z', state: 'ACTIVE' as const, deletionTxn: null, lastSequence: 0 };
  const append = () => store.appendMessage({ messageId: randomUUID(), roomId: 'r1', username: 'u', content: 'x'.repeat(2000), timestamp: '2026-01-01T00:00:00.000Z', clientMessageId: null });

  beforeEach(() => {
    store = ChatStore.inMemory();
    store.insertRoom(room);
    sut = new StoreHealthIndicator(store, new HealthIndicatorService());
  });
  afterEach(() => store.close());

  it('is up and counts rooms while the store reads and writes', () => {
    append();
    expect(sut.check().store).toMatchObject({ status: 'up', rooms: 1 });
  });

  it('is down, saying why, once a write fails for lack of space, and up again after a write succeeds', () => {
    db().exec('PRAGMA max_page_count = 1'); // SQLite caps it at the current size: the file cannot grow
    expect(() => {
      for (let i = 0; i < 50; i++) append();
    }).toThrow(/full/i);
    expect(store.lastWriteError()).toMatch(/full/i);
    expect(sut.check().store).toMatchObject({ status: 'down', error: expect.stringMatching(/^writes fail: .*full/i) });
    db().exec('PRAGMA max_page_count = 1000000');
    append();
    expect(store.lastWriteError()).toBeNull();
    expect(sut.check().store.status).toBe('up');
  });

  it('does not count a refused request (an unknown room) as a storage failure', () => {
    expect(() => store.appendMessage({ messageId: randomUUID(), roomId: 'nope', username: 'u', content: 'x', timestamp: 't', clientMessageId: null })).toThrow();
    expect(store.lastWriteError()).toBeNull();
  });
});
