import { roomRecord } from '../../testing/records';
import { ChatStore } from './chat-store';
import { StoreTransactions } from './store-transactions';

describe(StoreTransactions.name, () => {
  let store: ChatStore;
  let sut: StoreTransactions;
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.transactions;
  });
  afterEach(() => store.close());

  describe('afterCommit', () => {
    it('runs at once outside a transaction, after the commit inside one, and not at all after a rollback', () => {
      const ran: string[] = [];
      sut.afterCommit(() => ran.push('now'));
      expect(ran).toEqual(['now']);
      sut.run(() => {
        sut.afterCommit(() => ran.push('committed'));
        expect(ran).toEqual(['now']);
      });
      expect(ran).toEqual(['now', 'committed']);
      expect(() =>
        sut.run(() => {
          sut.afterCommit(() => ran.push('rolled back'));
          throw new Error('undo');
        }),
      ).toThrow('undo');
      expect(ran).toEqual(['now', 'committed']);
    });

    it('drops only the hooks of a nested part that was undone', () => {
      const ran: string[] = [];
      sut.run(() => {
        sut.afterCommit(() => ran.push('kept'));
        expect(() =>
          sut.run(() => {
            sut.afterCommit(() => ran.push('undone'));
            throw new Error('inner');
          }),
        ).toThrow('inner');
        sut.afterCommit(() => ran.push('after'));
      });
      expect(ran).toEqual(['kept', 'after']);
    });
  });

  it('drops what the repositories cached inside a transaction that rolled back', () => {
    store.rooms.insertRoom(roomRecord());
    expect(() =>
      sut.run(() => {
        store.members.addMember('r1', 'alice', 'node1', 't');
        store.rooms.setHost('r1', 'node2', 2);
        expect(store.members.getMember('r1', 'alice')).not.toBeNull(); // cached
        expect(store.rooms.getRoom('r1')!.hostNode).toBe('node2'); // cached
        throw new Error('undo');
      }),
    ).toThrow('undo');
    expect(store.members.getMember('r1', 'alice')).toBeNull();
    expect(store.rooms.getRoom('r1')!.hostNode).toBe('node1');
  });
});
