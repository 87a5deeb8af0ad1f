import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import type { ForwardItem, ReplicationEvent } from '../../../common/protocol/peer-wire';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { deferred, flushPromises, peek, type Deferred } from '../../../testing/deferred';
import { FakeClock } from '../../../testing/fakes';
import { roomRecord } from '../../../testing/records';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { UsernameGuard } from '../identity/username-guard';
import { CommitLedger } from './commit-ledger';
import { LocalWrites } from './local-writes';
import { HostEpochs } from './host-epochs';
import { HostPeerRequests } from './host-peer-requests.service';
import { RoomDeletionCoordinator } from './room-deletion.coordinator';
import { RoomEventPublisher } from './room-events.publisher';
import { RoomHostService } from './room-host.service';

/** Two peers; each replicated message waits until the test says whether a majority stored it. */
class QuorumPeers {
  readonly nodeIds = ['node2', 'node3'];
  readonly majority = 2;
  readonly messages: Deferred[] = [];
  replicate(event: ReplicationEvent): Promise<void> {
    if (event.kind !== 'message') return Promise.resolve();
    const stored = deferred();
    this.messages.push(stored);
    return stored.promise;
  }
  discardRoom(): void {}
}

const item = (content: string, over: Partial<ForwardItem> = {}): ForwardItem => ({ room_id: 'r1', username: 'bob', content, client_message_id: null, ...over });

describe(`${HostPeerRequests.name} (forwards answered at the majority)`, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let peers: QuorumPeers;
  let sut: HostPeerRequests;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    peers = new QuorumPeers();
    moduleRef = await Test.createTestingModule({
      providers: [
        HostPeerRequests,
        RoomHostService,
        LocalWrites,
        RoomEventPublisher,
        CommitLedger,
        ClientRegistry,
        HostEpochs,
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '1' }) },
        { provide: CHAT_STORE, useValue: store },
        { provide: Clock, useValue: new FakeClock() },
        { provide: PeerDirectory, useValue: peers },
        { provide: UsernameGuard, useValue: { assertFreeForPeer: async () => undefined } },
        { provide: RoomDeletionCoordinator, useValue: {} },
      ],
    }).compile();
    sut = moduleRef.get(HostPeerRequests);
    // r1 hosted and served here at epoch 2; bob is a member through node2
    store.insertRoom(roomRecord({ hostNode: 'node1', hostEpoch: 2, promisedEpoch: 2, logEpoch: 2 }));
    store.addMember('r1', 'bob', 'node2', 't');
    moduleRef.get(RoomHostService).startServing('r1');
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  it('answers a forwarded batch item by item, each once a majority stored it', async () => {
    const answering = sut.sequenceAll([item('one'), item('two')]);
    await flushPromises();
    expect(store.getRoom('r1')?.lastSequence).toBe(2); // sequenced in one commit, in order
    expect(await peek(answering)).toBe('pending');

    peers.messages[0].resolve();
    peers.messages[1].resolve();
    expect(await answering).toEqual([
      { success: true, message_id: expect.any(String), sequence_number: 1, timestamp: expect.any(String) },
      { success: true, message_id: expect.any(String), sequence_number: 2, timestamp: expect.any(String) },
    ]);
  });

  it('an item no majority stored is answered with a retryable ADMIN_NODE_UNAVAILABLE; the others of its batch succeed', async () => {
    const answering = sut.sequenceAll([item('one'), item('two', { client_message_id: 'c2' })]);
    await flushPromises();
    peers.messages[0].resolve();
    peers.messages[1].reject(new Error('not stored by a majority in time'));
    const [one, two] = await answering;
    expect(one).toMatchObject({ success: true, sequence_number: 1 });
    expect(two).toMatchObject({ success: false, error_code: 'ADMIN_NODE_UNAVAILABLE' });

    // the sender's node retries with the same client_message_id: one message, answered as a duplicate once stored
    const retrying = sut.sequenceAll([item('two', { client_message_id: 'c2' })]);
    await flushPromises();
    peers.messages[2].resolve();
    expect(await retrying).toEqual([{ success: true, message_id: expect.any(String), sequence_number: 2, timestamp: expect.any(String), duplicate: true }]);
    expect(store.getRoom('r1')?.lastSequence).toBe(2);
  });

  it("a retry sent while the first forward still waits is answered by its own majority, not the first one's timeout", async () => {
    const first = sut.sequenceAll([item('two', { client_message_id: 'c2' })]);
    await flushPromises();
    const retry = sut.sequenceAll([item('two', { client_message_id: 'c2' })]); // the sender's node gave up on the first call
    await flushPromises();
    peers.messages[0].reject(new Error('not stored by a majority in time'));
    expect(await first).toEqual([expect.objectContaining({ success: false, error_code: 'ADMIN_NODE_UNAVAILABLE' })]);
    expect(await peek(retry)).toBe('pending');
    peers.messages[1].resolve();
    expect(await retry).toEqual([expect.objectContaining({ success: true, sequence_number: 1, duplicate: true })]);
  });

  it('refuses a forward from a node that knows a newer epoch than this host (this host was replaced), sequencing nothing', async () => {
    const [answer] = await sut.sequenceAll([item('late', { host_epoch: 3 })]);
    expect(answer).toMatchObject({ success: false, error_code: 'ADMIN_NODE_UNAVAILABLE' });
    expect(store.getRoom('r1')?.lastSequence).toBe(0);
    expect(peers.messages).toEqual([]);
  });

  it('accepts a forward naming the current epoch, an older one (the sender catches up later) or none', async () => {
    const answering = sut.sequenceAll([item('a', { host_epoch: 2 }), item('b', { host_epoch: 1 }), item('c')]);
    await flushPromises();
    for (const m of peers.messages) m.resolve();
    expect((await answering).map((a) => a.success)).toEqual([true, true, true]);
  });

  it('a forward to a room that moved names its new host and epoch, so the sender can follow', async () => {
    store.setEpochs('r1', { hostNode: 'node3', hostEpoch: 3, promisedEpoch: 3, epochStart: 1, logEpoch: 2 });
    const [answer] = await sut.sequenceAll([item('hi')]);
    expect(answer).toMatchObject({ success: false, error_code: 'ADMIN_NODE_UNAVAILABLE', admin_node: 'node3', host_epoch: 3 });
  });

  it('a join naming a newer epoch is refused the same way; the current epoch joins once the member event is stored', async () => {
    const refused = await sut.join('r1', 'carol', 'node2', null, 3);
    expect(refused).toMatchObject({ success: false, error_code: 'ADMIN_NODE_UNAVAILABLE', room_info: null });
    expect(store.getMember('r1', 'carol')).toBeNull();

    const joined = await sut.join('r1', 'carol', 'node2', null, 2); // member events are stored at once by these peers
    expect(joined).toMatchObject({ success: true, room_info: expect.objectContaining({ room_id: 'r1' }) });
  });
});
