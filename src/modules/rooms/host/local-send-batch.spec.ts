import { ChatError } from '../../../common/errors/chat-error';
import type { ForwardItem } from '../../../common/protocol/peer-wire';
import { ChatStore } from '../../../common/store/chat-store';
import { messageRecord } from '../../../testing/records';
import { LocalSendBatch } from './local-send-batch';
import type { RoomHostService, SentRecord } from './room-host.service';

const item = (content: string): ForwardItem => ({ room_id: 'r1', username: 'alice', content, client_message_id: null });

/** The host's send as the batch sees it: sequences in call order; content names a refusal to throw. */
class SequencingHost {
  readonly sequenced: string[] = [];
  /** Whether each send ran inside a store transaction (the batch's one commit). */
  readonly inTransaction: boolean[] = [];
  constructor(private readonly transactionDepth: () => number) {}
  send(_roomId: string, _username: string, content: string): SentRecord {
    this.inTransaction.push(this.transactionDepth() > 0);
    if (content === 'not-member') throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    if (content === 'disk-full') throw new ChatError('STORE_UNAVAILABLE', 'disk full');
    this.sequenced.push(content);
    return { message: messageRecord(this.sequenced.length, { content }), duplicate: false, acked: Promise.resolve() };
  }
}

describe(LocalSendBatch.name, () => {
  let store: ChatStore;
  let host: SequencingHost;
  let commits: number;
  let sut: LocalSendBatch;

  beforeEach(() => {
    store = ChatStore.inMemory();
    let depth = 0;
    host = new SequencingHost(() => depth);
    const transaction = store.transaction.bind(store);
    commits = 0;
    jest.spyOn(store, 'transaction').mockImplementation(<T>(fn: () => T): T => {
      commits++;
      depth++;
      try {
        return transaction(fn);
      } finally {
        depth--;
      }
    });
    sut = new LocalSendBatch(store, host as unknown as RoomHostService);
  });

  afterEach(() => store.close());

  it('sequences the sends of one event-loop turn together, in one commit, in the order they were submitted', async () => {
    const sends = ['one', 'two', 'three'].map((c) => sut.submit('r1', item(c)));
    expect(host.sequenced).toEqual([]); // nothing before the turn ends
    const sent = await Promise.all(sends);
    expect(sent.map((s) => [s.message.sequenceNumber, s.message.content])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect(commits).toBe(1);
    expect(host.inTransaction).toEqual([true, true, true]);
  });

  it('a send submitted in a later turn goes into the next commit', async () => {
    await sut.submit('r1', item('one'));
    await sut.submit('r1', item('two'));
    expect(commits).toBe(2);
    expect(host.sequenced).toEqual(['one', 'two']);
  });

  it("refuses only the send that was refused; the others of its batch are sequenced", async () => {
    const outcomes = await Promise.allSettled([sut.submit('r1', item('one')), sut.submit('r1', item('not-member')), sut.submit('r1', item('two'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_MEMBER' });
    expect(host.sequenced).toEqual(['one', 'two']);
  });

  it('a store that cannot write rolls the whole batch back: every send of it is refused', async () => {
    const outcomes = await Promise.allSettled([sut.submit('r1', item('one')), sut.submit('r1', item('disk-full')), sut.submit('r1', item('two'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
