import { loadConfig } from '../../common/config/load-config';
import { ChatError } from '../../common/errors/chat-error';
import { ChatStore } from '../../common/store/chat-store';
import { FakeClock, FakeSocket } from '../../testing/fakes';
import { roomRecord } from '../../testing/records';
import { ClientConnection } from './client-connection';
import { RequestLimiter } from './request-limiter';

describe(RequestLimiter.name, () => {
  const stores: ChatStore[] = [];
  afterEach(() => stores.splice(0).forEach((s) => s.close()));
  const setup = (env: Record<string, string> = {}) => {
    const clock = new FakeClock();
    const store = ChatStore.inMemory();
    stores.push(store);
    const sut = new RequestLimiter(loadConfig(env), clock, store.rooms);
    const conn = (address = '10.0.0.1') => {
      const c = new ClientConnection(Math.random().toString(), new FakeSocket().asWebSocket(), clock.monotonic());
      c.address = address;
      return c;
    };
    return { clock, sut, conn, store };
  };
  const refusal = (fn: () => void): ChatError | null => {
    try {
      fn();
      return null;
    } catch (e) {
      return e as ChatError;
    }
  };

  it('admits the burst of messages, refuses the next with RATE_LIMITED and the wait, admits again after it', () => {
    const { sut, conn, clock } = setup({ RATE_LIMIT_MESSAGE_BURST: '50', RATE_LIMIT_MESSAGES_PER_SECOND: '10' });
    const c = conn();
    for (let i = 0; i < 50; i++) sut.admitMessage(c);
    const e = refusal(() => sut.admitMessage(c));
    expect(e).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_ms: 100 } });
    expect(e!.message).toBe('Too many messages: at most 10 per second; try again in 0.1 s');
    clock.advance(100);
    expect(refusal(() => sut.admitMessage(c))).toBeNull();
  });

  it('keeps one bucket per connection: one flooding client does not limit another', () => {
    const { sut, conn } = setup({ RATE_LIMIT_MESSAGE_BURST: '5' });
    const flooder = conn();
    const paced = conn();
    for (let i = 0; i < 5; i++) sut.admitMessage(flooder);
    expect(refusal(() => sut.admitMessage(flooder))?.code).toBe('RATE_LIMITED');
    expect(refusal(() => sut.admitMessage(paced))).toBeNull();
  });

  it('limits joins and room creations together', () => {
    const { sut, conn } = setup({ RATE_LIMIT_ROOM_OP_BURST: '3' });
    const c = conn();
    for (let i = 0; i < 3; i++) sut.admitRoomOp(c);
    expect(refusal(() => sut.admitRoomOp(c))).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('refuses a room beyond MAX_ROOMS_PER_NODE with LIMIT_EXCEEDED', () => {
    const { sut } = setup({ MAX_ROOMS_PER_NODE: '2' });
    expect(refusal(() => sut.admitHostedRoom(1))).toBeNull();
    expect(refusal(() => sut.admitHostedRoom(2))).toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });

  it('measures refills on the monotonic clock: a wall clock set back an hour locks nobody out, one set forward refills nothing', () => {
    const { sut, conn, clock } = setup({ RATE_LIMIT_MESSAGE_BURST: '5', RATE_LIMIT_MESSAGES_PER_SECOND: '1' });
    const c = conn();
    for (let i = 0; i < 5; i++) sut.admitMessage(c);
    clock.jump(-3_600_000);
    clock.advance(1000);
    expect(refusal(() => sut.admitMessage(c))).toBeNull(); // one second's token, not an hour's debt
    clock.jump(2 * 3_600_000);
    expect(refusal(() => sut.admitMessage(c))).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_ms: 1000 } });
  });

  it('gives one address one budget for messages over all its connections: more connections buy no more throughput', () => {
    const { sut, conn, clock } = setup({ RATE_LIMIT_IP_MESSAGE_BURST: '10', RATE_LIMIT_IP_MESSAGES_PER_SECOND: '5' });
    const many = Array.from({ length: 10 }, () => conn('10.0.0.1'));
    for (const c of many) expect(refusal(() => sut.admitMessage(c))).toBeNull();
    const e = refusal(() => sut.admitMessage(conn('10.0.0.1')));
    expect(e).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_ms: 200 } });
    expect(e!.message).toMatch(/^Too many messages from your address: at most 5 per second over all its connections/);
    expect(refusal(() => sut.admitMessage(conn('10.0.0.2')))).toBeNull(); // another address is not affected
    clock.advance(200);
    expect(refusal(() => sut.admitMessage(many[0]))).toBeNull();
  });

  it('gives one address one budget for room creations and joins', () => {
    const { sut, conn } = setup({ RATE_LIMIT_IP_ROOM_OP_BURST: '4' });
    for (let i = 0; i < 4; i++) sut.admitRoomOp(conn());
    expect(refusal(() => sut.admitRoomOp(conn()))?.message).toMatch(/^Too many room creations and joins from your address/);
  });

  it('throttles history pages, discoveries, leaves and deletions per connection', () => {
    const { sut, conn, clock } = setup({ RATE_LIMIT_REQUEST_BURST: '3', RATE_LIMIT_REQUESTS_PER_SECOND: '2' });
    const c = conn();
    for (let i = 0; i < 3; i++) sut.admitRequest(c);
    expect(refusal(() => sut.admitRequest(c))).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_ms: 500 } });
    expect(refusal(() => sut.admitRequest(conn()))).toBeNull();
    clock.advance(500);
    expect(refusal(() => sut.admitRequest(c))).toBeNull();
  });

  it('caps the rooms one address created that still exist; a deleted one makes room for another', () => {
    const { sut, conn, store } = setup({ MAX_ROOMS_PER_IP: '2' });
    const a = conn('10.0.0.1');
    for (const id of ['r1', 'r2']) {
      sut.admitRoomCreation(a, 'alice');
      store.rooms.insertRoom(roomRecord({ roomId: id, roomName: id }));
      sut.roomCreated(conn('10.0.0.1'), id);
    }
    expect(refusal(() => sut.admitRoomCreation(conn('10.0.0.1'), 'bob'))).toMatchObject({ code: 'LIMIT_EXCEEDED', message: expect.stringMatching(/^Your address has created 2 rooms that still exist/) });
    expect(refusal(() => sut.admitRoomCreation(conn('10.0.0.9'), 'bob'))).toBeNull();
    store.tombstones.deleteRoom({ roomId: 'r1', roomName: 'r1', hostNode: 'node1', deletedAt: '2026-01-01T00:00:00.000Z', transactionId: 't' });
    expect(refusal(() => sut.admitRoomCreation(a, 'alice'))).toBeNull();
  });

  it('in token mode caps the rooms one user created in the cluster, whatever address they come from', () => {
    const { sut, conn, store } = setup({ AUTH_MODE: 'token', AUTH_SECRET: 'x'.repeat(32), MAX_ROOMS_PER_USER: '2' });
    store.rooms.insertRoom(roomRecord({ roomId: 'r1', roomName: 'one', creatorId: 'alice', hostNode: 'node1' }));
    store.rooms.insertRoom(roomRecord({ roomId: 'r2', roomName: 'two', creatorId: 'alice', hostNode: 'node2' }));
    expect(refusal(() => sut.admitRoomCreation(conn('10.0.0.7'), 'alice'))).toMatchObject({ code: 'LIMIT_EXCEEDED', message: expect.stringMatching(/^You have created 2 rooms that still exist/) });
    expect(refusal(() => sut.admitRoomCreation(conn('10.0.0.7'), 'bob'))).toBeNull();
  });

  it('admits everything with RATE_LIMITS=off', () => {
    const { sut, conn } = setup({ RATE_LIMITS: 'off' });
    const c = conn();
    for (let i = 0; i < 10_000; i++) {
      sut.admitMessage(c);
      sut.admitRoomOp(c);
      sut.admitRequest(c);
      sut.roomCreated(c, `room-${i}`);
    }
    expect(refusal(() => sut.admitRoomCreation(c, 'u'))).toBeNull();
    for (let i = 0; i < 300; i++) c.enter(`r${i}`, { username: 'u', cursor: 0 });
    expect(refusal(() => sut.admitRoomMembership(c, 'another'))).toBeNull();
    expect(refusal(() => sut.admitHostedRoom(1e6))).toBeNull();
  });
});
