import { CLOSE_TOO_SLOW } from '../../common/ws/close-codes';
import { FakeSocket } from '../../testing/fakes';
import { ClientConnection } from './client-connection';

class BufferingSocket extends FakeSocket {
  bufferedAmount = 0;
}

describe(ClientConnection.name, () => {
  const limit = 1024 * 1024;
  const setup = () => {
    const socket = new BufferingSocket();
    const tooSlow: number[] = [];
    const sut = new ClientConnection('c1', socket.asWebSocket(), 0, { maxBufferedBytes: limit, onTooSlow: (_c, bytes) => tooSlow.push(bytes) });
    return { socket, sut, tooSlow };
  };

  it('closes the socket with 4008 and a reason saying why once more than the limit is buffered', () => {
    const { socket, sut, tooSlow } = setup();
    socket.bufferedAmount = limit;
    sut.sendFrame('{"type":"new_message","data":{}}');
    expect(socket.closed).toBeNull();

    socket.bufferedAmount = limit + 1;
    sut.sendFrame('{"type":"new_message","data":{}}');
    expect(socket.closed).toEqual({ code: CLOSE_TOO_SLOW, reason: `client too slow: ${limit + 1} bytes buffered` });
    expect(tooSlow).toEqual([limit + 1]);
  });

  it('never closes with a limit of 0', () => {
    const socket = new BufferingSocket();
    const sut = new ClientConnection('c1', socket.asWebSocket(), 0, { maxBufferedBytes: 0, onTooSlow: () => undefined });
    socket.bufferedAmount = 1e9;
    sut.sendFrame('{}');
    expect(socket.closed).toBeNull();
  });

  it('drained() waits until the client has taken what was sent', async () => {
    jest.useFakeTimers();
    try {
      const { socket, sut } = setup();
      socket.bufferedAmount = 600_000;
      let done = false;
      const waiting = sut.drained(100_000).then(() => (done = true));
      await jest.advanceTimersByTimeAsync(1000);
      expect(done).toBe(false);
      socket.bufferedAmount = 50_000;
      await jest.advanceTimersByTimeAsync(1000);
      await waiting;
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
