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

  it('terminates the socket once more than the limit is buffered (a close frame would wait behind what it does not read), and says so', () => {
    const { socket, sut, tooSlow } = setup();
    socket.bufferedAmount = limit;
    sut.sendFrame('{"type":"new_message","data":{}}');
    expect(socket.terminated).toBe(false);

    socket.bufferedAmount = limit + 1;
    sut.sendFrame('{"type":"new_message","data":{}}');
    expect(socket.terminated).toBe(true);
    expect(socket.closed).toBeNull(); // no close handshake to wait for
    expect(tooSlow).toEqual([limit + 1]);
    expect(sut.sendFrame('{}')).toBe(false); // nothing more is queued for it
  });

  it('never closes with a limit of 0', () => {
    const socket = new BufferingSocket();
    const sut = new ClientConnection('c1', socket.asWebSocket(), 0, { maxBufferedBytes: 0, onTooSlow: () => undefined });
    socket.bufferedAmount = 1e9;
    sut.sendFrame('{}');
    expect(socket.terminated).toBe(false);
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
