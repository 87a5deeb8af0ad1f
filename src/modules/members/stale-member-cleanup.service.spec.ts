import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { ChatStore } from '../../common/store/chat-store';
import { storeProviders } from '../../common/store/store.module';
import { FakeClock, FakeSocket } from '../../testing/fakes';
import type { ClientConnection } from './client-connection';
import { ClientRegistry } from './client-registry';
import { type InactiveMemberListener, StaleMemberCleanupService } from './stale-member-cleanup.service';
import { roomRecord } from '../../testing/records';

/** Stands in for the rooms module's subscriber: records the removals the cleanup reports. */
class RecordingListener implements InactiveMemberListener {
  readonly removed: { conn: ClientConnection; roomId: string; username: string }[] = [];
  async onMemberInactive(conn: ClientConnection, roomId: string, username: string): Promise<void> {
    this.removed.push({ conn, roomId, username });
  }
}

const config = loadConfig({ NODE_ID: 'node1', INACTIVITY_TIMEOUT: '60', CLEANUP_INTERVAL: '10' });

describe(StaleMemberCleanupService.name, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let clock: FakeClock;
  let clients: ClientRegistry;
  let listener: RecordingListener;
  let scheduler: SchedulerRegistry;
  let sut: StaleMemberCleanupService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    store.rooms.insertRoom(roomRecord({ roomId: 'room-1' }));
    clock = new FakeClock();
    listener = new RecordingListener();
    moduleRef = await Test.createTestingModule({
      providers: [
        StaleMemberCleanupService,
        ClientRegistry,
        SchedulerRegistry,
        { provide: NODE_CONFIG, useValue: config },
        ...storeProviders(store),
        { provide: Clock, useValue: clock },
      ],
    }).compile();
    sut = moduleRef.get(StaleMemberCleanupService);
    sut.subscribe(listener);
    clients = moduleRef.get(ClientRegistry);
    scheduler = moduleRef.get(SchedulerRegistry);
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
    jest.useRealTimers();
  });

  /** A connection joined to `roomIds` as `username`, its membership stored as the host would. */
  const member = (username: string, ...roomIds: string[]) => {
    const socket = new FakeSocket();
    const conn = clients.connect(socket.asWebSocket());
    for (const roomId of roomIds) {
      clients.register(conn, roomId, username, 0);
      store.members.addMember(roomId, username, 'node1', clock.iso());
    }
    return { socket, conn };
  };

  it('removes an idle member: tells its socket member_left (Inactivity), unregisters it and tells its listeners', async () => {
    const idle = member('alice', 'room-1');
    const active = member('bob', 'room-1');
    clock.advance(30_000);
    clients.touch(active.conn);
    clock.advance(config.inactivityTimeoutMs + 1 - 30_000);

    const removed = await sut.cleanup();

    expect(removed).toBe(1);
    expect(idle.socket.sent('member_left')).toEqual([
      { room_id: 'room-1', username: 'alice', member_count: 1, timestamp: clock.iso(), reason: 'Inactivity' },
    ]);
    expect(idle.conn.rooms.has('room-1')).toBe(false);
    expect(clients.inRoom('room-1')).toEqual([active.conn]);
    expect(listener.removed).toEqual([{ conn: idle.conn, roomId: 'room-1', username: 'alice' }]);
  });

  it('leaves an active member untouched', async () => {
    const active = member('bob', 'room-1');
    clock.advance(config.inactivityTimeoutMs);

    expect(await sut.cleanup()).toBe(0);
    expect(active.socket.frames).toEqual([]);
    expect(active.conn.rooms.has('room-1')).toBe(true);
    expect(listener.removed).toEqual([]);
  });

  it('measures idleness on the monotonic clock: a wall clock set forward an hour removes nobody, one set back keeps nobody', async () => {
    const active = member('bob', 'room-1');
    clock.jump(3_600_000);
    expect(await sut.cleanup()).toBe(0);
    expect(active.conn.rooms.has('room-1')).toBe(true);

    clock.jump(-2 * 3_600_000);
    clock.advance(config.inactivityTimeoutMs + 1);
    expect(await sut.cleanup()).toBe(1);
    expect(active.socket.sent('member_left')[0].timestamp).toBe(clock.iso()); // what people see stays wall time
  });

  it('counts every room an idle connection is removed from, and ignores idle connections in no room', async () => {
    store.rooms.insertRoom({ ...store.rooms.getRoom('room-1')!, roomId: 'room-2', roomName: 'random' });
    const idle = member('alice', 'room-1', 'room-2');
    member('nobody');
    clock.advance(config.inactivityTimeoutMs + 1);

    expect(await sut.cleanup()).toBe(2);
    expect(idle.socket.sent('member_left').map((e) => e.room_id)).toEqual(['room-1', 'room-2']);
    expect(listener.removed.map((r) => r.roomId)).toEqual(['room-1', 'room-2']);
    expect(idle.conn.rooms.size).toBe(0);
  });

  it('does not remove the same member twice on the next sweep', async () => {
    member('alice', 'room-1');
    clock.advance(config.inactivityTimeoutMs + 1);
    await sut.cleanup();

    expect(await sut.cleanup()).toBe(0);
    expect(listener.removed).toHaveLength(1);
  });

  it('registers its interval under INTERVAL_NAME on bootstrap and removes it on destroy', async () => {
    expect(scheduler.doesExist('interval', StaleMemberCleanupService.INTERVAL_NAME)).toBe(false);

    await moduleRef.init();
    expect(scheduler.doesExist('interval', StaleMemberCleanupService.INTERVAL_NAME)).toBe(true);

    await moduleRef.close();
    expect(scheduler.doesExist('interval', StaleMemberCleanupService.INTERVAL_NAME)).toBe(false);
  });

  it('sweeps every CLEANUP_INTERVAL once bootstrapped', async () => {
    jest.useFakeTimers();
    await moduleRef.init();
    member('alice', 'room-1');
    clock.advance(config.inactivityTimeoutMs + 1);

    await jest.advanceTimersByTimeAsync(config.cleanupIntervalMs);

    expect(listener.removed.map((r) => r.username)).toEqual(['alice']);
  });
});
