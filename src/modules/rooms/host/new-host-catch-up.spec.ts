import { Logger } from '@nestjs/common';
import type { ChatError } from '../../../common/errors/chat-error';
import { LogCluster } from '../../../testing/log-cluster';
import type { WireItem } from '../replication/room-log-wire';
import { MESSAGE, MODERATION } from '../replication/room-entries';
import type { LeadershipListener } from '../replication/room-logs.service';
import { RoomHostService } from './room-host.service';
import { RoomModeration } from './room-moderation.service';

const FIVE = ['node1', 'node2', 'node3', 'node4', 'node5'];

/**
 * Five voters: a follower learns that an entry is committed only from its host. node2 stores a ban
 * and a mute that node1 committed (with node3..5) but never hears they are: when node1 is lost and
 * node2 is elected, they are committed and not applied there. Requests that reach node2 the moment
 * it takes over (from its leadership listener, before its first entry can commit) must be checked
 * against them, as every other host would.
 */
describe('A new host checks requests only once it applied what was committed before it (RoomLogs.serve)', () => {
  let cluster: LogCluster;
  let roomId: string;
  const node = (id: string) => cluster.node(id);
  const host = (id: string) => node(id).get(RoomHostService);
  const outcome = (p: Promise<unknown>) => p.then(() => 'done', (e: ChatError) => e);
  /** Appends from node1 reach node2 with the commit as it was at `upTo`: node2 stores every entry and learns no commit after it. */
  const commitFrozenForNode2 = (upTo: number) => (from: string, to: string, items: WireItem[]): WireItem[] =>
    from === 'node1' && to === 'node2' ? items.map(([id, m]) => [id, m.type === 'append' ? { ...m, commit: Math.min(m.commit, upTo) } : m] as const) : items;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(FIVE, { providers: [RoomHostService, RoomModeration] });
    roomId = (await host('node1').create('general', 'alice', null)).roomId;
    await host('node1').join(roomId, 'alice', 'node1');
    await host('node1').join(roomId, 'carol', 'node3');
    await cluster.settle();
    cluster.network.alter = commitFrozenForNode2(node('node1').logs.load(roomId)!.core.state.commit);
    await node('node1').get(RoomModeration).moderate(roomId, { action: 'ban', username: 'alice', member: 'bob' });
    await node('node1').get(RoomModeration).moderate(roomId, { action: 'mute', username: 'alice', member: 'carol', seconds: 3600 });
    await cluster.settle();
    expect(node('node2').store.logs.entriesOfKind(roomId, MODERATION)).toHaveLength(2); // stored on node2 ...
    expect(node('node2').store.moderation.isBanned(roomId, 'bob')).toBe(false); // ... not known committed, so not applied
    expect(node('node3').store.moderation.isBanned(roomId, 'bob')).toBe(true);
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  /** node1 is lost; `onTakeOver` runs on node2 when it becomes the room's host (its first entry not yet committed). */
  const failOver = async (onTakeOver: () => void) => {
    let tookOver = false;
    const listener: LeadershipListener = {
      onLeadership: (id, now) => {
        if (id !== roomId || now.role !== 'leader' || tookOver) return;
        tookOver = true;
        expect(node('node2').logs.load(roomId)!.core.caughtUp).toBe(false);
        onTakeOver();
      },
    };
    node('node2').logs.subscribe(listener);
    cluster.network.cut.add('node1');
    for (const id of FIVE.slice(1)) node(id).peers.suspect('node1');
    await cluster.advance(1000);
    expect(tookOver).toBe(true);
  };

  it('refuses a join of a name banned by an entry committed before it took over, and a send of a muted member; other requests wait and are served', async () => {
    let bobJoins!: Promise<unknown>;
    let carolSends!: Promise<unknown>;
    let daveJoins!: Promise<unknown>;
    let aliceSends!: Promise<number[]>;
    await failOver(() => {
      bobJoins = outcome(host('node2').join(roomId, 'bob', 'node2'));
      carolSends = outcome(host('node2').send(roomId, 'carol', 'can I talk?', null));
      daveJoins = outcome(host('node2').join(roomId, 'dave', 'node2'));
      aliceSends = Promise.all(['one', 'two', 'three'].map((c) => host('node2').send(roomId, 'alice', c, null).then((s) => s.message.sequenceNumber)));
    });
    expect(await bobJoins).toMatchObject({ code: 'BANNED' });
    expect(await carolSends).toMatchObject({ code: 'MUTED' });
    expect(await daveJoins).toBe('done');
    expect(await aliceSends).toEqual([1, 2, 3]); // waited, then proposed in the order they came
    await cluster.settle();
    expect(node('node3').logs.hostOf(roomId)).toEqual({ node: 'node2', epoch: 2 });
    for (const id of FIVE.slice(1)) {
      expect(node(id).store.members.listMembers(roomId).map((m) => m.username).sort()).toEqual(['alice', 'carol', 'dave']);
      expect(node(id).store.messages.messagesAfter(roomId, 0, 10).map((m) => [m.username, m.content])).toEqual([['alice', 'one'], ['alice', 'two'], ['alice', 'three']]);
    }
  });

  it('refuses a proposal made without waiting, retryably (the state it was checked against may lag)', async () => {
    let proposed!: Promise<unknown>;
    await failOver(() => {
      proposed = outcome(node('node2').logs.propose(roomId, { kind: MESSAGE, data: { message_id: 'm', username: 'carol', content: 'x', timestamp: 't', client_message_id: null } }));
    });
    expect(await proposed).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true }, message: expect.stringMatching(/just become the room's host/) });
  });

  it('a new host that cannot get its first entry confirmed refuses the waiting requests retryably after the quorum timeout', async () => {
    let bobJoins!: Promise<unknown>;
    await failOver(() => {
      for (const id of ['node3', 'node4', 'node5']) cluster.network.cut.add(id); // its noop never reaches a majority
      bobJoins = outcome(host('node2').join(roomId, 'bob', 'node2'));
    });
    await cluster.advance(node('node2').config.quorumTimeoutMs);
    const refused = await bobJoins;
    expect(refused).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true }, message: expect.stringMatching(/just become the room's host/) });
    expect(node('node2').store.members.getMember(roomId, 'bob')).toBeNull();
  });

  it('a request waiting when the new host loses the room is refused as on any node that does not host it', async () => {
    let bobJoins!: Promise<unknown>;
    await failOver(() => {
      for (const id of ['node3', 'node4', 'node5']) cluster.network.cut.add(id);
      bobJoins = outcome(host('node2').join(roomId, 'bob', 'node2'));
      for (const id of ['node3', 'node4', 'node5']) node('node2').peers.suspect(id); // check-quorum: it stops hosting
    });
    expect(await bobJoins).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true }, message: expect.stringMatching(/no host right now/) });
    expect(node('node2').logs.hosts(roomId)).toBe(false);
  });
});
