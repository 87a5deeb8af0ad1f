import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { PeerConnectionGuard } from './peer-connection-guard';

/** A socket that records being destroyed and says 'close' then, as a real one does. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly name: string) {
    super();
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

describe(PeerConnectionGuard.name, () => {
  const socket = (name: string) => new FakeSocket(name) as FakeSocket & Socket;

  it('keeps up to the cap, then drops the oldest connection not proven to be a peer for each new one', () => {
    const dropped: string[] = [];
    const sut = new PeerConnectionGuard(3, (s) => void dropped.push((s as FakeSocket & Socket).name));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(socket);
    for (const s of [a, b, c]) sut.opened(s);
    sut.prove(a);
    sut.opened(d);
    expect(dropped).toEqual(['b']);
    expect([a.destroyed, b.destroyed, c.destroyed, d.destroyed]).toEqual([false, true, false, false]);
    expect(sut.size).toBe(3);
    expect(sut.unproven).toBe(2);
  });

  it('refuses a new connection when every open one is a proven peer connection', () => {
    const sut = new PeerConnectionGuard(2);
    const [a, b, c] = ['a', 'b', 'c'].map(socket);
    for (const s of [a, b]) {
      sut.opened(s);
      sut.prove(s);
    }
    sut.opened(c);
    expect(c.destroyed).toBe(true);
    expect(sut.size).toBe(2);
    expect(sut.evicted).toBe(1);
  });

  it('forgets connections once they close', () => {
    const sut = new PeerConnectionGuard(2);
    const a = socket('a');
    sut.opened(a);
    a.emit('close');
    expect(sut.size).toBe(0);
  });
});
