import { CallCoalescer } from './call-coalescer';

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A batch call that stays in flight until the test answers it. */
class FakeHost {
  readonly calls: { items: string[]; answer: () => void; fail: (e: Error) => void }[] = [];
  readonly sendBatch = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      this.calls.push({ items, answer: () => resolve(items.map((i) => `ok:${i}`)), fail: reject });
    });
  async answerAll(): Promise<void> {
    for (let i = 0; i < this.calls.length; i++) {
      this.calls[i].answer();
      await settle();
    }
  }
}

describe(CallCoalescer.name, () => {
  let host: FakeHost;

  beforeEach(() => {
    host = new FakeHost();
  });

  it('sends the first item at once and coalesces the ones that arrive meanwhile into the next call, in order', async () => {
    const sut = new CallCoalescer(host.sendBatch);
    const results = ['a', 'b', 'c', 'd'].map((i) => sut.submit(i));

    expect(host.calls.map((c) => c.items)).toEqual([['a']]);
    await host.answerAll();

    expect(host.calls.map((c) => c.items)).toEqual([['a'], ['b', 'c', 'd']]);
    expect(await Promise.all(results)).toEqual(['ok:a', 'ok:b', 'ok:c', 'ok:d']);
  });

  it('bounds a batch by count and by bytes; an item bigger than the budget still goes alone', async () => {
    const sut = new CallCoalescer(host.sendBatch, { maxItems: 3, maxBytes: 10, sizeOf: (i: string) => i.length });
    const items = ['first', 'aaaa', 'bbbb', 'cc', 'd', 'e', 'f', 'x'.repeat(50), 'g'];
    const results = items.map((i) => sut.submit(i));

    await host.answerAll();

    expect(host.calls.map((c) => c.items)).toEqual([['first'], ['aaaa', 'bbbb', 'cc'], ['d', 'e', 'f'], ['x'.repeat(50)], ['g']]);
    expect(await Promise.all(results)).toEqual(items.map((i) => `ok:${i}`));
  });

  it("rejects every item of a failed call with the call's error and goes on with the next batch", async () => {
    const sut = new CallCoalescer(host.sendBatch);
    const first = sut.submit('a');
    const second = sut.submit('b');
    host.calls[0].fail(new Error('timeout'));
    await expect(first).rejects.toThrow('timeout');
    await settle();
    host.calls[1].answer();
    expect(await second).toBe('ok:b');
  });

  it('rejects the batch when the peer answers with the wrong number of results', async () => {
    const sut = new CallCoalescer<string, string>(async () => ['only one']);
    sut.submit('a');
    const results = [sut.submit('b'), sut.submit('c')];
    await expect(results[0]).rejects.toThrow('batch of 2 got 1 results');
    await expect(results[1]).rejects.toThrow('batch of 2 got 1 results');
  });
});
