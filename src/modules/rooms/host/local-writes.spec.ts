import { ChatError } from '../../../common/errors/chat-error';
import { ChatStore } from '../../../common/store/chat-store';
import { roomRecord } from '../../../testing/records';
import { LocalWrites } from './local-writes';

describe(LocalWrites.name, () => {
  let store: ChatStore;
  let commits: number;
  let sut: LocalWrites;

  beforeEach(() => {
    store = ChatStore.inMemory();
    store.insertRoom(roomRecord());
    const transaction = store.transaction.bind(store);
    commits = 0;
    let depth = 0;
    // counts outermost transactions only: the commits (a store write inside one is a savepoint)
    jest.spyOn(store, 'transaction').mockImplementation(<T>(fn: () => T): T => {
      if (depth === 0) commits++;
      depth++;
      try {
        return transaction(fn);
      } finally {
        depth--;
      }
    });
    sut = new LocalWrites(store);
  });

  afterEach(() => store.close());

  /** One local send: appends the next message of r1. */
  const append = (content: string) => () => store.appendMessage({ messageId: content, roomId: 'r1', username: 'alice', content, timestamp: 't', clientMessageId: null });
  const contents = () => store.messagesAfter('r1', 0, 100).map((m) => m.content);

  it('runs the writes of one event-loop turn together, in one commit, in the order they were submitted', async () => {
    const writes = ['one', 'two', 'three'].map((c) => sut.run(append(c)));
    expect(contents()).toEqual([]); // nothing before the turn ends
    const sent = await Promise.all(writes);
    expect(sent.map((m) => [m.sequenceNumber, m.content])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect(commits).toBe(1);
  });

  it('a write submitted in a later turn goes into the next commit', async () => {
    await sut.run(append('one'));
    await sut.run(append('two'));
    expect(commits).toBe(2);
    expect(contents()).toEqual(['one', 'two']);
  });

  it('a write that is refused fails alone; the others of its turn are kept', async () => {
    // writes are atomic on their own (each store write is a savepoint): a refusal comes before it writes, as in RoomHostService.send
    const refused = () => {
      throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    };
    const outcomes = await Promise.allSettled([sut.run(append('one')), sut.run(refused), sut.run(append('two'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_MEMBER' });
    expect(contents()).toEqual(['one', 'two']);
    expect(store.getRoom('r1')?.lastSequence).toBe(2);
    expect(commits).toBe(1);
  });

  it('a store that cannot write rolls the whole turn back: every write of it is refused', async () => {
    const storeDown = () => {
      throw new ChatError('STORE_UNAVAILABLE', 'disk full');
    };
    const outcomes = await Promise.allSettled([sut.run(append('one')), sut.run(storeDown), sut.run(append('two'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(contents()).toEqual([]);
  });
});
