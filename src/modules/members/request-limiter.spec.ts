import { loadConfig } from '../../common/config/load-config';
import { ChatError } from '../../common/errors/chat-error';
import { FakeClock, FakeSocket } from '../../testing/fakes';
import { ClientConnection } from './client-connection';
import { RequestLimiter } from './request-limiter';

describe(RequestLimiter.name, () => {
  const setup = (env: Record<string, string> = {}) => {
    const clock = new FakeClock();
    const sut = new RequestLimiter(loadConfig(env), clock);
    const conn = () => new ClientConnection(Math.random().toString(), new FakeSocket().asWebSocket(), clock.now());
    return { clock, sut, conn };
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

  it('admits everything with RATE_LIMITS=off', () => {
    const { sut, conn } = setup({ RATE_LIMITS: 'off' });
    const c = conn();
    for (let i = 0; i < 10_000; i++) {
      sut.admitMessage(c);
      sut.admitRoomOp(c);
    }
    for (let i = 0; i < 300; i++) c.rooms.set(`r${i}`, { username: 'u', cursor: 0 });
    expect(refusal(() => sut.admitRoomMembership(c, 'another'))).toBeNull();
    expect(refusal(() => sut.admitHostedRoom(1e6))).toBeNull();
  });
});
