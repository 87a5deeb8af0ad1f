import { Logger } from '@nestjs/common';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { Test, type TestingModule } from '@nestjs/testing';
import { messageRecord, roomRecord } from '../../../testing/records';
import { PeerDirectory } from '../../peers/peer-directory';
import { LogReconciler } from './log-reconciler';

/**
 * The other node's copy of room r1 as get_messages serves it: the newest `limit` messages below
 * `before`, ascending; `maxPerReply` plays the reply budget that cuts a page short.
 */
class SourceNode {
  messageIds: string[] = []; // index i holds sequence i + 1
  maxPerReply = Number.MAX_SAFE_INTEGER;
  failing = false;
  readonly calls: unknown[][] = [];

  async call(node: string, method: string, params: [string, number, number, number]): Promise<unknown> {
    this.calls.push([node, method, ...params]);
    if (this.failing) return { success: false, error_code: 'ROOM_NOT_FOUND', messages: [] };
    const [roomId, , before, limit] = params;
    const below = this.messageIds.map((id, i) => ({ sequence_number: i + 1, message_id: id, room_id: roomId })).filter((m) => m.sequence_number < before);
    const messages = below.slice(-Math.min(limit, this.maxPerReply));
    return { success: true, messages, first_sequence: 1, last_sequence: this.messageIds.length };
  }
}

describe(LogReconciler.name, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let source: SourceNode;
  let sut: LogReconciler;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    source = new SourceNode();
    moduleRef = await Test.createTestingModule({
      providers: [LogReconciler, { provide: CHAT_STORE, useValue: store }, { provide: PeerDirectory, useValue: source }],
    }).compile();
    sut = moduleRef.get(LogReconciler);
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  /** This node's copy of r1 (hosted by node2): message ids in sequence order. */
  const holdHere = (ids: string[], over: Parameters<typeof roomRecord>[0] = {}) => {
    store.insertRoom(roomRecord({ hostNode: 'node2', ...over, lastSequence: 0 }));
    ids.forEach((id, i) => store.applyReplicaMessage(messageRecord(i + 1, { messageId: id })));
  };
  const idsHere = () => store.messagesAfter('r1', 0, 1000).map((m) => m.messageId);

  describe('alignWith', () => {
    it('keeps a copy that is a prefix of the source (the source may hold more)', async () => {
      holdHere(['a', 'b', 'c']);
      source.messageIds = ['a', 'b', 'c', 'd', 'e'];
      expect(await sut.alignWith('r1', 'node3')).toBe(0);
      expect(idsHere()).toEqual(['a', 'b', 'c']);
      expect(store.getRoom('r1')?.lastSequence).toBe(3);
    });

    it('drops a divergent tail: the messages after the last one both hold at the same sequence with the same id', async () => {
      holdHere(['a', 'b', 'c', 'x4', 'x5']); // 4 and 5: sequenced by an old host, no majority stored them
      source.messageIds = ['a', 'b', 'c', 'd'];
      expect(await sut.alignWith('r1', 'node3')).toBe(2);
      expect(idsHere()).toEqual(['a', 'b', 'c']);
      expect(store.getRoom('r1')?.lastSequence).toBe(3);
    });

    it('drops what the source does not hold at all, and everything when it holds none of it', async () => {
      holdHere(['a', 'b', 'c']);
      source.messageIds = ['a'];
      expect(await sut.alignWith('r1', 'node3')).toBe(2);
      expect(idsHere()).toEqual(['a']);

      source.messageIds = [];
      expect(await sut.alignWith('r1', 'node3')).toBe(1);
      expect(store.getRoom('r1')?.lastSequence).toBe(0);
    });

    it('a page cut short by the reply budget is not divergence: it pages on down to the common message', async () => {
      holdHere(['a', 'b', 'c', 'x4', 'x5']);
      source.messageIds = ['a', 'b', 'c', 'd', 'e', 'f'];
      source.maxPerReply = 2; // answers [4,5], then [2,3]
      expect(await sut.alignWith('r1', 'node3')).toBe(2);
      expect(idsHere()).toEqual(['a', 'b', 'c']);
      expect(source.calls).toEqual([
        ['node3', 'get_messages', 'r1', 0, 6, 200],
        ['node3', 'get_messages', 'r1', 0, 4, 200],
      ]);
    });

    it('a cut-short page whose messages all match keeps everything', async () => {
      holdHere(['a', 'b', 'c', 'd']);
      source.messageIds = ['a', 'b', 'c', 'd'];
      source.maxPerReply = 1;
      expect(await sut.alignWith('r1', 'node3')).toBe(0);
      expect(idsHere()).toEqual(['a', 'b', 'c', 'd']);
      expect(source.calls).toHaveLength(1);
    });

    it('a source that cannot list the room is an error, and nothing is dropped', async () => {
      holdHere(['a', 'b']);
      source.failing = true;
      await expect(sut.alignWith('r1', 'node3')).rejects.toThrow(/node3 could not list room r1 \(ROOM_NOT_FOUND\)/);
      expect(idsHere()).toEqual(['a', 'b']);
    });
  });

  describe('alignWithHost and advanceLogEpoch', () => {
    it('aligns once per epoch with the current host, then no longer needs to', async () => {
      holdHere(['a', 'b', 'x3'], { hostEpoch: 2, promisedEpoch: 2, epochStart: 3, logEpoch: 1 });
      source.messageIds = ['a', 'b'];
      expect(sut.needsAlignment(store.getRoom('r1')!)).toBe(true);

      await Promise.all([sut.alignWithHost('r1'), sut.alignWithHost('r1')]); // concurrent callers share one run
      expect(source.calls.map((c) => c[0])).toEqual(['node2']);
      expect(idsHere()).toEqual(['a', 'b']);
      expect(store.getRoom('r1')?.logEpoch).toBe(2); // holds everything before epoch 2's first sequence (3)
      expect(sut.needsAlignment(store.getRoom('r1')!)).toBe(false);

      await sut.alignWithHost('r1');
      expect(source.calls).toHaveLength(1);
    });

    it('follows the new epoch only once the copy holds everything up to epoch_start - 1', async () => {
      holdHere(['a', 'b'], { hostEpoch: 2, promisedEpoch: 2, epochStart: 5, logEpoch: 1 });
      source.messageIds = ['a', 'b', 'c', 'd', 'e'];
      await sut.alignWithHost('r1');
      expect(store.getRoom('r1')).toMatchObject({ lastSequence: 2, logEpoch: 1 }); // 3 and 4 (from the old epoch) still missing

      store.applyReplicaMessage(messageRecord(3, { messageId: 'c' }));
      sut.advanceLogEpoch('r1');
      expect(store.getRoom('r1')?.logEpoch).toBe(1);
      store.applyReplicaMessage(messageRecord(4, { messageId: 'd' }));
      sut.advanceLogEpoch('r1');
      expect(store.getRoom('r1')?.logEpoch).toBe(2);
    });

    it('does not advance a copy that was never aligned with the epoch (its tail may still be divergent)', () => {
      holdHere(['a', 'b', 'x3'], { hostEpoch: 2, promisedEpoch: 2, epochStart: 3, logEpoch: 1 });
      sut.advanceLogEpoch('r1');
      expect(store.getRoom('r1')?.logEpoch).toBe(1);
    });

    it('needs no alignment for a copy that already follows its host epoch, and asks nobody', async () => {
      holdHere(['a'], { hostEpoch: 3, promisedEpoch: 3, epochStart: 1, logEpoch: 3 });
      expect(sut.needsAlignment(store.getRoom('r1')!)).toBe(false);
      await sut.alignWithHost('r1');
      expect(source.calls).toEqual([]);
    });

    it('a failed alignment can be tried again (nothing is marked aligned)', async () => {
      holdHere(['a', 'x2'], { hostEpoch: 2, promisedEpoch: 2, epochStart: 2, logEpoch: 1 });
      source.messageIds = ['a'];
      source.failing = true;
      await expect(sut.alignWithHost('r1')).rejects.toThrow(/could not list/);
      expect(sut.needsAlignment(store.getRoom('r1')!)).toBe(true);

      source.failing = false;
      await sut.alignWithHost('r1');
      expect(idsHere()).toEqual(['a']);
      expect(store.getRoom('r1')?.logEpoch).toBe(2);
    });
  });
});
