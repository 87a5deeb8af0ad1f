import { Test } from '@nestjs/testing';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import { ChatStore } from '../../../common/store/chat-store';
import { storeProviders } from '../../../common/store/store.module';
import { encodeMethodResponse, XmlRpcFault, XMLRPC_MAX_BODY_BYTES } from '../../../common/xmlrpc';
import { roomRecord } from '../../../testing/records';
import type { PeerResult } from '../../../common/protocol/peer-wire';
import { RoomStatePages } from './room-state-pages';

const id = (n: number) => `room-${String(n).padStart(5, '0')}`;

describe(RoomStatePages.name, () => {
  let store: ChatStore;
  let sut: RoomStatePages;

  beforeEach(async () => {
    store = ChatStore.inMemory();
    const moduleRef = await Test.createTestingModule({
      providers: [RoomStatePages, { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1' }) }, ...storeProviders(store)],
    }).compile();
    sut = moduleRef.get(RoomStatePages);
  });
  afterEach(() => store.close());

  /** Follows next_cursor from the first page to the last. */
  const allPages = () => {
    const pages: PeerResult<'get_room_states'>[] = [];
    let cursor: string | null = null;
    do {
      const page = sut.page(cursor);
      pages.push(page);
      cursor = page.next_cursor ?? null;
    } while (cursor !== null && pages.length < 1000);
    return pages;
  };

  it('answers a small node in one page: its deletions and every room it holds (hosted here or not) with members, no cursor', () => {
    store.rooms.insertRoom(roomRecord({ roomId: 'a', roomName: 'a' }));
    store.rooms.insertRoom(roomRecord({ roomId: 'b', roomName: 'b', hostNode: 'node2' }));
    store.members.addMember('a', 'alice', 'node1', 't');
    store.rooms.insertRoom(roomRecord({ roomId: 'gone', roomName: 'gone' }));
    store.tombstones.deleteRoom({ roomId: 'gone', roomName: 'gone', hostNode: 'node1', deletedAt: 't', transactionId: 'txn' });

    const page = sut.page(null);

    expect(page.deleted).toEqual([{ room_id: 'gone', room_name: 'gone', transaction_id: 'txn' }]);
    expect(page.rooms.map((r) => [r.room_id, r.members.map((m) => m.username)])).toEqual([['a', ['alice']], ['b', []]]);
    expect(page.next_cursor).toBeNull();
  });

  it('pages 5000 rooms with members and 300 deletions: every one exactly once, each page under the body limit', () => {
    store.transactions.run(() => {
      for (let i = 0; i < 5000; i++) {
        store.rooms.insertRoom(roomRecord({ roomId: id(i), roomName: `name-${i}`, description: 'd'.repeat(200) }));
        for (let m = 0; m < 5; m++) store.members.addMember(id(i), `user-${i}-${m}`, 'node2', 't');
      }
      for (let i = 0; i < 300; i++) {
        store.rooms.insertRoom(roomRecord({ roomId: `gone-${i}`, roomName: `gone-${i}` }));
        store.tombstones.deleteRoom({ roomId: `gone-${i}`, roomName: `gone-${i}`, hostNode: 'node1', deletedAt: 't', transactionId: null });
      }
    });

    const pages = allPages();

    expect(pages.length).toBeGreaterThan(10);
    expect(pages.flatMap((p) => p.rooms.map((r) => r.room_id))).toEqual(Array.from({ length: 5000 }, (_, i) => id(i)));
    expect(new Set(pages.flatMap((p) => p.deleted.map((d) => d.room_id))).size).toBe(300);
    expect(pages.every((p) => p.rooms.every((r) => r.members.length === 5))).toBe(true);
    for (const p of pages) expect(Buffer.byteLength(encodeMethodResponse(p))).toBeLessThan(XMLRPC_MAX_BODY_BYTES);
    expect(pages.at(-1)!.next_cursor).toBeNull();
  });

  it('refuses a cursor it did not hand out with a -32602 fault', () => {
    expect(() => sut.page('somewhere')).toThrow(XmlRpcFault);
  });
});
