import { HealthIndicatorService } from '@nestjs/terminus';
import { randomUUID } from 'node:crypto';
import { ChatStore } from '../../common/store/chat-store';
import { StoreHealthIndicator } from './store.health';
import { roomRecord } from '../../testing/records';

describe(StoreHealthIndicator.name, () => {
  let store: ChatStore;
  let sut: StoreHealthIndicator;
  const db = () => (store as unknown as { db: { exec(sql: string): void } }).db;
  const room = roomRecord({ roomName: 'r1', creatorId: 'u' });
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
    }).toThrow(/cannot store messages right now/);
    expect(store.writeHealth()).toMatchObject({ ok: false, error: expect.stringMatching(/full/i) });
    expect(sut.check().store).toMatchObject({ status: 'down', writes: { ok: false, error: expect.stringMatching(/full/i) } });
    db().exec('PRAGMA max_page_count = 1000000');
    append();
    expect(store.writeHealth().ok).toBe(true);
    expect(sut.check().store.status).toBe('up');
  });

  it('does not count a refused request (an unknown room) as a storage failure', () => {
    expect(() => store.appendMessage({ messageId: randomUUID(), roomId: 'nope', username: 'u', content: 'x', timestamp: 't', clientMessageId: null })).toThrow();
    expect(store.writeHealth().ok).toBe(true);
  });
});
