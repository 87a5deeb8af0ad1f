import { HealthIndicatorService } from '@nestjs/terminus';
import { ChatStore } from '../../common/store/chat-store';
import { StoreHealthIndicator } from './store.health';
import { messageRecord, roomRecord } from '../../testing/records';
import { storeConnection } from '../../testing/store-connection';

describe(StoreHealthIndicator.name, () => {
  let store: ChatStore;
  let sut: StoreHealthIndicator;
  const db = () => storeConnection(store);
  const room = roomRecord({ roomName: 'r1', creatorId: 'u' });
  let sequence = 0;
  const append = () => store.messages.insertMessage(messageRecord(++sequence, { messageId: `m${sequence}`, content: 'x'.repeat(2000) }));

  beforeEach(() => {
    sequence = 0;
    store = ChatStore.inMemory();
    store.rooms.insertRoom(room);
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

  it('does not count a refused write (a sequence number already taken) as a storage failure', () => {
    append();
    expect(() => store.messages.insertMessage(messageRecord(1, { messageId: 'other' }))).toThrow(/UNIQUE|constraint/i);
    expect(store.writeHealth().ok).toBe(true);
  });
});
