import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { FakeClock, FakeSocket } from '../../testing/fakes';
import type { ChatMessage } from '../../common/protocol/client-wire';
import { ClientRegistry } from './client-registry';

const config = loadConfig({ NODE_ID: 'node1', WS_PING_INTERVAL: '20' });

const message = (sequence_number: number, room_id = 'room-1'): ChatMessage => ({
  message_id: `m${sequence_number}`,
  room_id,
  username: 'alice',
  content: `hello ${sequence_number}`,
  sequence_number,
  timestamp: '2026-01-01T00:00:00.000Z',
});

describe(ClientRegistry.name, () => {
  let moduleRef: TestingModule;
  let clock: FakeClock;
  let sut: ClientRegistry;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers();
    clock = new FakeClock();
    moduleRef = await Test.createTestingModule({
      providers: [ClientRegistry, { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }],
    }).compile();
    sut = moduleRef.get(ClientRegistry);
  });

  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  const connect = () => {
    const socket = new FakeSocket();
    return { socket, conn: sut.connect(socket.asWebSocket()) };
  };
  const seqs = (socket: FakeSocket) => socket.sent('new_message').map((m) => m.sequence_number);

  describe('register / unregister', () => {
    it('tracks which connections are in which room', () => {
      const a = connect();
      const b = connect();
      sut.register(a.conn, 'room-1', 'alice', 0);
      sut.register(b.conn, 'room-2', 'bob', 0);

      expect(sut.size).toBe(2);
      expect(sut.inRoom('room-1')).toEqual([a.conn]);
      expect(sut.hasRoom('room-2')).toBe(true);

      sut.unregister(b.conn, 'room-2');

      expect(sut.hasRoom('room-2')).toBe(false);
      expect(b.conn.rooms.size).toBe(0);
    });

    it('an unregistered connection no longer receives the room’s messages or events', () => {
      const a = connect();
      sut.register(a.conn, 'room-1', 'alice', 0);
      sut.unregister(a.conn, 'room-1');

      sut.deliverMessage(message(1));
      sut.broadcast('room-1', 'member_joined', { room_id: 'room-1', username: 'bob', member_count: 2, timestamp: 't' });

      expect(a.socket.frames).toEqual([]);
    });

    it('unregisterRoom forgets every connection of a deleted room', () => {
      const a = connect();
      const b = connect();
      sut.register(a.conn, 'room-1', 'alice', 0);
      sut.register(b.conn, 'room-1', 'bob', 0);

      sut.unregisterRoom('room-1');

      expect(sut.hasRoom('room-1')).toBe(false);
      expect(a.conn.rooms.has('room-1')).toBe(false);
      expect(b.conn.rooms.has('room-1')).toBe(false);
    });
  });

  describe('deliverMessage', () => {
    it('delivers each sequence once per socket, in order, skipping what the cursor already covers', () => {
      const fresh = connect();
      const resumed = connect();
      const elsewhere = connect();
      sut.register(fresh.conn, 'room-1', 'alice', 0);
      sut.register(resumed.conn, 'room-1', 'bob', 2);
      sut.register(elsewhere.conn, 'room-2', 'carol', 0);

      for (const seq of [1, 2, 2, 3, 1, 4]) sut.deliverMessage(message(seq));

      expect(seqs(fresh.socket)).toEqual([1, 2, 3, 4]);
      expect(seqs(resumed.socket)).toEqual([3, 4]);
      expect(elsewhere.socket.frames).toEqual([]);
      expect(fresh.socket.sent('new_message')[0]).toEqual(message(1));
    });

    it('sends nothing to a socket that is no longer open', () => {
      const a = connect();
      sut.register(a.conn, 'room-1', 'alice', 0);
      a.socket.readyState = 3;

      sut.deliverMessage(message(1));

      expect(a.socket.frames).toEqual([]);
    });
  });

  describe('broadcast', () => {
    it('reaches every socket in the room except those joined as exceptUsername', () => {
      const alice = connect();
      const bob1 = connect();
      const bob2 = connect();
      const other = connect();
      sut.register(alice.conn, 'room-1', 'alice', 0);
      sut.register(bob1.conn, 'room-1', 'bob', 0);
      sut.register(bob2.conn, 'room-1', 'bob', 0);
      sut.register(other.conn, 'room-2', 'carol', 0);
      const event = { room_id: 'room-1', username: 'bob', member_count: 2, timestamp: '2026-01-01T00:00:00.000Z' };

      sut.broadcast('room-1', 'member_joined', event, 'bob');

      expect(alice.socket.sent('member_joined')).toEqual([event]);
      expect(bob1.socket.frames).toEqual([]);
      expect(bob2.socket.frames).toEqual([]);
      expect(other.socket.frames).toEqual([]);
    });

    it('reaches everyone in the room without exceptUsername', () => {
      const alice = connect();
      const bob = connect();
      sut.register(alice.conn, 'room-1', 'alice', 0);
      sut.register(bob.conn, 'room-1', 'bob', 0);

      sut.broadcast('room-1', 'room_available', { room_id: 'room-1', admin_node: 'node2' });

      expect(alice.socket.types).toEqual(['room_available']);
      expect(bob.socket.types).toEqual(['room_available']);
    });
  });

  describe('usernameStillInRoom', () => {
    it('is true only while another socket is in the room under the same name', () => {
      const first = connect();
      const second = connect();
      const carol = connect();
      sut.register(first.conn, 'room-1', 'bob', 0);
      sut.register(second.conn, 'room-1', 'bob', 0);
      sut.register(carol.conn, 'room-1', 'carol', 0);

      expect(sut.usernameStillInRoom('room-1', 'bob', first.conn)).toBe(true);
      expect(sut.usernameStillInRoom('room-1', 'carol', carol.conn)).toBe(false);

      sut.unregister(second.conn, 'room-1');

      expect(sut.usernameStillInRoom('room-1', 'bob', first.conn)).toBe(false);
      expect(sut.usernameInRoom('room-1', 'bob')).toBe(true);
      expect(sut.usernameInRoom('room-2', 'bob')).toBe(false);
    });
  });

  describe('disconnect', () => {
    it('forgets the connection and returns the rooms it was in with the username it used there', () => {
      const a = connect();
      const b = connect();
      sut.register(a.conn, 'room-1', 'alice', 0);
      sut.register(a.conn, 'room-2', 'alice', 0);
      sut.register(b.conn, 'room-1', 'bob', 0);

      const rooms = sut.disconnect(a.conn);

      expect(rooms).toEqual(new Map([['room-1', 'alice'], ['room-2', 'alice']]));
      expect(sut.size).toBe(1);
      expect(sut.inRoom('room-1')).toEqual([b.conn]);
      expect(sut.hasRoom('room-2')).toBe(false);
      expect([...sut.all()]).toEqual([b.conn]);
    });
  });

  describe('keepalive', () => {
    it('pings every socket each interval and terminates one that did not answer the previous ping', () => {
      const answering = connect();
      const silent = connect();

      jest.advanceTimersByTime(config.wsPingIntervalMs);
      expect(answering.socket.pings).toBe(1);
      expect(silent.socket.pings).toBe(1);

      answering.socket.emit('pong');
      jest.advanceTimersByTime(config.wsPingIntervalMs);

      expect(answering.socket.terminated).toBe(false);
      expect(answering.socket.pings).toBe(2);
      expect(silent.socket.terminated).toBe(true);
      expect(silent.socket.pings).toBe(1);
    });

    it('does not terminate before a full interval has passed without a pong', () => {
      const a = connect();
      jest.advanceTimersByTime(config.wsPingIntervalMs);
      jest.advanceTimersByTime(config.wsPingIntervalMs - 1);
      expect(a.socket.terminated).toBe(false);
    });

    it('a pong answering the node\'s ping refreshes lastActivity from the clock', () => {
      const a = connect();
      const connectedAt = clock.monotonic();
      expect(a.conn.lastActivity).toBe(connectedAt);

      jest.advanceTimersByTime(config.wsPingIntervalMs);
      expect(a.socket.pings).toBe(1);
      clock.advance(7000);
      a.socket.emit('pong');

      expect(a.conn.lastActivity).toBe(connectedAt + 7000);
    });

    it('an unsolicited pong is not activity (only the answer to a ping is)', () => {
      const a = connect();
      const connectedAt = clock.monotonic();
      clock.advance(7000);
      a.socket.emit('pong');
      expect(a.conn.lastActivity).toBe(connectedAt);

      jest.advanceTimersByTime(config.wsPingIntervalMs);
      a.socket.emit('pong');
      clock.advance(1000);
      a.socket.emit('pong'); // a second pong for the same ping
      expect(a.conn.lastActivity).toBe(connectedAt + 7000);
    });

    it('stops pinging once the module is destroyed', async () => {
      const a = connect();
      await moduleRef.close();

      jest.advanceTimersByTime(config.wsPingIntervalMs * 3);

      expect(a.socket.pings).toBe(0);
      expect(a.socket.terminated).toBe(false);
    });
  });

  it('touch records activity at the clock’s time', () => {
    const a = connect();
    clock.advance(1234);
    sut.touch(a.conn);
    expect(a.conn.lastActivity).toBe(clock.monotonic());
  });

  it('beforeApplicationShutdown closes every socket with 1001 so clients reconnect elsewhere', () => {
    const a = connect();
    const b = connect();
    sut.register(a.conn, 'room-1', 'alice', 0);

    sut.beforeApplicationShutdown();

    expect(a.socket.closed).toEqual({ code: 1001, reason: 'Node shutting down' });
    expect(b.socket.closed?.code).toBe(1001);
  });
});
