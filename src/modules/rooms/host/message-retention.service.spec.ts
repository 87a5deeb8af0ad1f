import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '../../../common/config/load-config';
import { ChatStore } from '../../../common/store/chat-store';
import { FakeClock } from '../../../testing/fakes';
import { appendMessages, roomRecord } from '../../../testing/records';
import { TRIM, type TrimData } from '../replication/room-entries';
import type { RoomLogs } from '../replication/room-logs.service';
import { MessageRetention } from './message-retention.service';

type Proposal = Parameters<RoomLogs['propose']>[1];

const DAY = 24 * 60 * 60 * 1000;

describe(MessageRetention.name, () => {
  let store: ChatStore;
  let clock: FakeClock;
  let hosted: string[];
  let proposed: { roomId: string; proposal: Proposal }[];
  let answer: () => Promise<unknown>;
  let scheduler: SchedulerRegistry;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    store = ChatStore.inMemory();
    store.rooms.insertRoom(roomRecord());
    clock = new FakeClock();
    hosted = ['r1'];
    proposed = [];
    answer = () => Promise.resolve({});
    scheduler = new SchedulerRegistry();
  });
  afterEach(() => store.close());

  const logs = {
    hostedRooms: () => hosted,
    serve: (_roomId: string, request: () => Promise<unknown>) => request(), // a host that has caught up
    propose: (roomId: string, proposal: Proposal) => {
      proposed.push({ roomId, proposal });
      return answer();
    },
  } as unknown as RoomLogs;
  const make = (env: Record<string, string>) => new MessageRetention(loadConfig(env), store.rooms, store.messages, clock, logs, scheduler);
  /** `n` messages stamped `ageMs` before the fake clock's now. */
  const messagesAged = (n: number, ageMs: number) => appendMessages(store, n, { timestamp: clock.iso(clock.now() - ageMs) });

  it('is off by default: no timer, and nothing to trim however many and however old the messages', () => {
    const sut = make({});
    messagesAged(50, 400 * DAY);
    expect(sut.enabled).toBe(false);
    sut.onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual([]);
    expect(sut.cutoff('r1')).toBeNull();
  });

  it('count: keeps the newest MAX_MESSAGES_PER_ROOM (25 messages, 10 kept: the first kept is 16)', () => {
    const sut = make({ MAX_MESSAGES_PER_ROOM: '10' });
    messagesAged(10, 0);
    expect(sut.cutoff('r1')).toBeNull(); // exactly at the limit
    messagesAged(15, 0);
    expect(sut.cutoff('r1')).toEqual({ before_sequence: 16, reason: 'count' });
    store.messages.trimBefore('r1', 16);
    expect(sut.cutoff('r1')).toBeNull(); // already trimmed there
    messagesAged(1, 0);
    expect(sut.cutoff('r1')).toEqual({ before_sequence: 17, reason: 'count' });
  });

  it('age: everything before the first message stamped within RETENTION_DAYS of the wall clock goes', () => {
    const sut = make({ RETENTION_DAYS: '7' });
    messagesAged(5, 8 * DAY); // 1-5: too old
    messagesAged(3, 7 * DAY - 1000); // 6-8: just within
    messagesAged(2, 0); // 9-10
    expect(sut.cutoff('r1')).toEqual({ before_sequence: 6, reason: 'age' });
    clock.advance(1000); // 6-8 are now exactly 7 days old: still within
    expect(sut.cutoff('r1')).toEqual({ before_sequence: 6, reason: 'age' });
    clock.advance(1);
    expect(sut.cutoff('r1')).toEqual({ before_sequence: 9, reason: 'age' });
  });

  it('age: a room whose messages are all too old is trimmed past its last one', () => {
    const sut = make({ RETENTION_DAYS: '0.5' });
    messagesAged(4, DAY);
    expect(sut.cutoff('r1')).toEqual({ before_sequence: 5, reason: 'age' });
    store.messages.trimBefore('r1', 5);
    expect(store.messages.firstSequence('r1')).toBe(5);
    expect(sut.cutoff('r1')).toBeNull();
  });

  it('age: follows the wall clock the host reads (a clock stepped back keeps more)', () => {
    const sut = make({ RETENTION_DAYS: '1' });
    messagesAged(3, 2 * DAY);
    messagesAged(3, 0);
    clock.jump(-2 * DAY);
    expect(sut.cutoff('r1')).toBeNull();
    clock.jump(2 * DAY);
    expect(sut.cutoff('r1')).toEqual({ before_sequence: 4, reason: 'age' });
  });

  it('both: the later cut-off wins', () => {
    const sut = make({ RETENTION_DAYS: '1', MAX_MESSAGES_PER_ROOM: '5' });
    messagesAged(10, 2 * DAY); // 1-10 too old
    messagesAged(10, 0); // 11-20
    expect(sut.cutoff('r1')).toEqual({ before_sequence: 16, reason: 'count' });
    const roomy = make({ RETENTION_DAYS: '1', MAX_MESSAGES_PER_ROOM: '15' });
    expect(roomy.cutoff('r1')).toEqual({ before_sequence: 11, reason: 'age' });
    const both = make({ RETENTION_DAYS: '1', MAX_MESSAGES_PER_ROOM: '10' });
    expect(both.cutoff('r1')).toEqual({ before_sequence: 11, reason: 'count+age' });
  });

  it('a room without messages, or one it does not know, has nothing to trim', () => {
    const sut = make({ MAX_MESSAGES_PER_ROOM: '1', RETENTION_DAYS: '1' });
    expect(sut.cutoff('r1')).toBeNull();
    expect(sut.cutoff('nope')).toBeNull();
  });

  it('sweep: proposes one trim entry per hosted room over a limit, stamped with the host\'s clock', async () => {
    store.rooms.insertRoom(roomRecord({ roomId: 'r2', roomName: 'other' }));
    store.rooms.insertRoom(roomRecord({ roomId: 'r3', roomName: 'elsewhere' }));
    messagesAged(12, 0);
    appendMessages(store, 3, { roomId: 'r2' });
    appendMessages(store, 20, { roomId: 'r3' }); // over the limit, but hosted by another node
    hosted = ['r1', 'r2'];
    const sut = make({ MAX_MESSAGES_PER_ROOM: '10' });
    expect(await sut.sweep()).toBe(1);
    expect(proposed).toEqual([{ roomId: 'r1', proposal: { kind: TRIM, data: { before_sequence: 3, reason: 'count', timestamp: clock.iso() } satisfies TrimData } }]);
  });

  it('sweep: one trim in flight per room; a refused one is proposed again by a later sweep', async () => {
    messagesAged(12, 0);
    const sut = make({ MAX_MESSAGES_PER_ROOM: '10' });
    let settle!: (ok: boolean) => void;
    answer = () => new Promise((resolve, reject) => (settle = (ok) => (ok ? resolve({}) : reject(new Error('no majority')))));
    const first = sut.sweep();
    expect(await sut.sweep()).toBe(0); // still waiting for the first
    expect(proposed).toHaveLength(1);
    settle(false);
    expect(await first).toBe(0);
    const again = sut.sweep();
    expect(proposed).toHaveLength(2);
    settle(true);
    expect(await again).toBe(1);
  });

  it('sweeps on its own timer only when a limit is set, every RETENTION_INTERVAL', () => {
    jest.useFakeTimers();
    try {
      const sut = make({ MAX_MESSAGES_PER_ROOM: '10', RETENTION_INTERVAL: '2' });
      messagesAged(11, 0);
      sut.onApplicationBootstrap();
      expect(scheduler.getIntervals()).toEqual([MessageRetention.INTERVAL_NAME]);
      jest.advanceTimersByTime(1999);
      expect(proposed).toHaveLength(0);
      jest.advanceTimersByTime(1);
      expect(proposed).toHaveLength(1);
      sut.onModuleDestroy();
      expect(scheduler.getIntervals()).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });
});
