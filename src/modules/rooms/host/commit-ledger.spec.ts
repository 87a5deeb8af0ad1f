import { ChatError } from '../../../common/errors/chat-error';
import type { ChatMessage } from '../../../common/protocol/client-wire';
import { deferred, flushPromises, peek } from '../../../testing/deferred';
import { messageRecord } from '../../../testing/records';
import type { ClientRegistry } from '../../members/client-registry';
import { CommitLedger } from './commit-ledger';

/** The ledger's side of the registry: what local members were shown, in order. */
class ShownToMembers {
  readonly shown: string[] = [];
  /** Every step in order: what members were shown and when senders were told. */
  readonly log: string[] = [];
  deliverMessage(m: ChatMessage): void {
    this.shown.push(`${m.room_id}#${m.sequence_number}`);
    this.log.push(`shown ${m.sequence_number}`);
  }
}

describe(CommitLedger.name, () => {
  let members: ShownToMembers;
  let sut: CommitLedger;

  beforeEach(() => {
    members = new ShownToMembers();
    sut = new CommitLedger(members as unknown as ClientRegistry);
  });

  /** Tracks message `n` of r1 with a majority the test decides; notes in the log when its sender is told. */
  const track = (n: number, room = 'r1') => {
    const stored = deferred();
    const told = sut.track(messageRecord(n, { roomId: room }), stored.promise);
    void told.then(
      () => members.log.push(`told ${n}`),
      () => members.log.push(`refused ${n}`),
    );
    return { stored, told };
  };

  it('shows a message to local members only once a majority stored it, and tells its sender after that', async () => {
    const one = track(1);
    await flushPromises();
    expect(members.shown).toEqual([]);
    expect(await peek(one.told)).toBe('pending');

    one.stored.resolve();
    await flushPromises();
    expect(members.log).toEqual(['shown 1', 'told 1']);
  });

  it('shows messages in sequence order; a later commit commits every earlier one (replicas store in order)', async () => {
    const [one, two, three] = [track(1), track(2), track(3)];

    two.stored.resolve();
    await flushPromises();
    expect(members.shown).toEqual(['r1#1', 'r1#2']);
    expect(await peek(one.told)).toBe('resolved');
    expect(await peek(three.told)).toBe('pending');

    one.stored.resolve(); // its own ack arriving late changes nothing
    three.stored.resolve();
    await flushPromises();
    expect(members.shown).toEqual(['r1#1', 'r1#2', 'r1#3']);
  });

  it("keeps rooms apart: one room's commit shows nothing of another", async () => {
    track(1, 'r1');
    const other = track(1, 'r2');
    other.stored.resolve();
    await flushPromises();
    expect(members.shown).toEqual(['r2#1']);
    expect(sut.isPending('r1', 1)).toBe(true);
    expect(sut.isPending('r2', 1)).toBe(false);
  });

  it('visibleUpTo stops before the first message no majority has yet', async () => {
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 7, logEpoch: 1 })).toBe(7); // nothing pending: everything stored is committed
    const eight = track(8);
    track(9);
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 9, logEpoch: 1 })).toBe(7);
    eight.stored.resolve();
    await flushPromises();
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 9, logEpoch: 1 })).toBe(8);
  });

  it('a majority that fails tells the sender to retry (ADMIN_NODE_UNAVAILABLE, retryable); the message stays unshown but pending', async () => {
    const one = track(1);
    one.stored.reject(new Error('not stored by a majority in time'));
    const e = await one.told.catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ChatError);
    expect(e).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true } });
    expect((e as Error).message).toMatch(/retry with the same client_message_id/);
    expect(members.shown).toEqual([]);
    expect(sut.isPending('r1', 1)).toBe(true);
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 1, logEpoch: 1 })).toBe(0);
  });

  it('a message whose wait failed is shown when a later one commits (it was stored too, in order)', async () => {
    const one = track(1);
    const two = track(2);
    one.stored.reject(new Error('timeout'));
    await flushPromises();
    two.stored.resolve();
    await flushPromises();
    expect(members.shown).toEqual(['r1#1', 'r1#2']);
    expect(sut.isPending('r1', 1)).toBe(false);
  });

  it('a retry of a pending message (same sequence) waits on the new replication and shows it once', async () => {
    const first = track(1);
    first.stored.reject(new Error('timeout'));
    await flushPromises();
    const retry = track(1);
    retry.stored.resolve();
    await flushPromises();
    expect(await peek(retry.told)).toBe('resolved');
    expect(members.shown).toEqual(['r1#1']);
  });

  it('keeps an older message resent later (a new epoch replicates it again) in sequence order', async () => {
    const five = track(5);
    const three = track(3);
    expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 5, logEpoch: 1 })).toBe(2);
    three.stored.resolve();
    await flushPromises();
    expect(members.shown).toEqual(['r1#3']);
    expect(await peek(five.told)).toBe('pending');
    five.stored.resolve();
    await flushPromises();
    expect(members.shown).toEqual(['r1#3', 'r1#5']);
  });

  it("the first wait's timeout does not refuse a retry that is still waiting on its own replication", async () => {
    const first = track(1);
    const retry = track(1); // the client retried (through another node) before the first wait ended
    first.stored.reject(new Error('not stored by a majority in time'));
    await flushPromises();
    expect(await peek(retry.told)).toBe('pending');
    retry.stored.resolve();
    await flushPromises();
    expect(await peek(retry.told)).toBe('resolved');
  });

  describe('dropRoom (this node no longer hosts the room)', () => {
    it('refuses every waiting sender retryably, naming the new host, and never shows what was pending', async () => {
      const [one, two] = [track(1), track(2)];
      sut.dropRoom('r1', 'Room moved to node2 (epoch 2); retry', { adminNode: 'node2', hostEpoch: 2 });

      for (const t of [one, two]) {
        await expect(t.told).rejects.toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true, admin_node: 'node2', host_epoch: 2 } });
      }
      one.stored.resolve(); // a late ack of the old epoch
      two.stored.resolve();
      await flushPromises();
      expect(members.shown).toEqual([]);
      expect(sut.isPending('r1', 1)).toBe(false);
      expect(sut.visibleUpTo({ roomId: 'r1', lastSequence: 2, logEpoch: 1 })).toBe(2);
    });

    it('leaves other rooms alone', async () => {
      track(1, 'r1');
      const other = track(1, 'r2');
      sut.dropRoom('r1', 'moved');
      other.stored.resolve();
      await flushPromises();
      expect(await peek(other.told)).toBe('resolved');
      expect(members.shown).toEqual(['r2#1']);
    });
  });
});
