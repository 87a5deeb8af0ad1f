import { Logger } from '@nestjs/common';
import type { ChatError } from '../../../common/errors/chat-error';
import { LogCluster } from '../../../testing/log-cluster';
import { MessageEdits } from './message-edits.service';
import { MODERATION } from '../replication/room-entries';
import { RoomHostService } from './room-host.service';
import { RoomModeration } from './room-moderation.service';

describe(RoomModeration.name, () => {
  let cluster: LogCluster;
  let sut: RoomModeration;
  let host: RoomHostService;
  let roomId: string;
  const node = (id: string) => cluster.node(id);
  const entries = () => node('node1').store.logs.entriesOfKind(roomId, MODERATION).length;
  // host.send refuses synchronously (it proposes in the caller's turn): run it inside the promise
  const code = (p: Promise<unknown> | (() => unknown)) => (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => 'none', (e: ChatError) => e.code);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], { providers: [RoomModeration, RoomHostService, MessageEdits] });
    sut = node('node1').get(RoomModeration);
    host = node('node1').get(RoomHostService);
    roomId = (await host.create('general', 'alice', null)).roomId;
    await host.join(roomId, 'alice', 'node1');
    await host.join(roomId, 'mod', 'node2');
    await host.join(roomId, 'bob', 'node3');
    await sut.moderate(roomId, { action: 'add_moderator', username: 'alice', member: 'mod' });
    await cluster.settle();
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  it('a kick is one entry applied on every node: the member is gone everywhere, every member is told, the kicked connections leave the room', async () => {
    const bobOn3 = node('node3').member(roomId, 'bob');
    const aliceOn1 = node('node1').member(roomId, 'alice');
    const kicked = await sut.moderate(roomId, { action: 'kick', username: 'mod', member: 'bob', reason: 'rude' });
    await cluster.settle();
    expect(kicked.logIndex).toBeGreaterThan(0);
    for (const id of ['node1', 'node2', 'node3']) expect(node(id).store.members.getMember(roomId, 'bob')).toBeNull();
    const event = { room_id: roomId, member: 'bob', by: 'mod', reason: 'rude', member_count: 2, timestamp: expect.any(String) };
    expect(bobOn3.sent('member_kicked')).toEqual([event]);
    expect(aliceOn1.sent('member_kicked')).toEqual([event]);
    expect(node('node3').clients.isHeldByAnother('bob')).toBe(false);
    await expect(code(sut.moderate(roomId, { action: 'kick', username: 'mod', member: 'bob' }))).resolves.toBe('NOT_IN_ROOM');
  });

  it('a ban holds on every node and refuses the join; unbanning twice writes once', async () => {
    await sut.moderate(roomId, { action: 'ban', username: 'alice', member: 'bob' });
    await cluster.settle();
    for (const id of ['node1', 'node2', 'node3']) expect(node(id).store.moderation.isBanned(roomId, 'bob')).toBe(true);
    await expect(code(host.join(roomId, 'bob', 'node3'))).resolves.toBe('BANNED');
    const before = entries();
    expect((await sut.moderate(roomId, { action: 'ban', username: 'alice', member: 'bob' })).logIndex).toBe(0);
    expect((await sut.moderate(roomId, { action: 'unban', username: 'mod', member: 'bob' })).logIndex).toBeGreaterThan(0);
    expect((await sut.moderate(roomId, { action: 'unban', username: 'mod', member: 'bob' })).logIndex).toBe(0);
    expect(entries()).toBe(before + 1);
    await expect(code(host.join(roomId, 'bob', 'node3'))).resolves.toBe('none');
  });

  it("a mute's expiry is the host's clock at proposal time, the same on every node; sends and edits are refused until it passes", async () => {
    const sent = await host.send(roomId, 'bob', 'hello', null);
    const start = node('node1').clock.now();
    const muted = await sut.moderate(roomId, { action: 'mute', username: 'mod', member: 'bob', seconds: 30 });
    await cluster.settle();
    expect(muted.mutedUntil).toBe(new Date(start + 30_000).toISOString());
    for (const id of ['node1', 'node2', 'node3']) expect(node(id).store.moderation.mutedUntil(roomId, 'bob')).toBe(muted.mutedUntil);
    await expect(code(() => host.send(roomId, 'bob', 'let me talk', null))).resolves.toBe('MUTED');
    await expect(code(node('node1').get(MessageEdits).edit(roomId, sent.message.messageId, 'bob', 'edited'))).resolves.toBe('MUTED');
    node('node1').clock.advance(30_000);
    await expect(code(() => host.send(roomId, 'bob', 'free again', null))).resolves.toBe('none');
  });

  it('refuses a non-member actor and a non-moderator, writing nothing', async () => {
    const before = entries();
    await expect(code(sut.moderate(roomId, { action: 'kick', username: 'stranger', member: 'bob' }))).resolves.toBe('NOT_MEMBER');
    await expect(code(sut.moderate(roomId, { action: 'ban', username: 'bob', member: 'mod' }))).resolves.toBe('NOT_MODERATOR');
    await expect(code(sut.moderate(roomId, { action: 'ban', username: 'mod', member: 'alice' }))).resolves.toBe('NOT_MODERATOR');
    expect(entries()).toBe(before);
  });

  it('keeps each applied action as the notice members were shown, identical on every node (by log index)', async () => {
    await sut.moderate(roomId, { action: 'kick', username: 'mod', member: 'bob', reason: 'rude' });
    await sut.moderate(roomId, { action: 'ban', username: 'alice', member: 'bob' });
    await sut.moderate(roomId, { action: 'mute', username: 'alice', member: 'mod', seconds: 60 });
    await cluster.settle();
    const onNode1 = node('node1').store.moderation.notices(roomId);
    expect(onNode1.map((n) => [n.event, n.data.member, n.data.by, n.data.reason ?? null, n.data.member_count ?? null])).toEqual([
      ['moderator_added', 'mod', 'alice', null, null],
      ['member_kicked', 'bob', 'mod', 'rude', 2],
      ['member_banned', 'bob', 'alice', null, 2],
      ['member_muted', 'mod', 'alice', null, null],
    ]);
    expect(onNode1[3].data.muted_until).toEqual(expect.any(String));
    for (const id of ['node2', 'node3']) expect(node(id).store.moderation.notices(roomId)).toEqual(onNode1);
  });

  it('refuses every moderation request in a direct room, writing nothing', async () => {
    for (const id of ['node1', 'node2', 'node3']) node(id).store.privacy.markPrivate(roomId, true);
    const before = entries();
    for (const action of ['add_moderator', 'kick', 'ban', 'unban', 'mute'] as const) {
      await expect(code(sut.moderate(roomId, { action, username: 'alice', member: 'bob', seconds: 60 }))).resolves.toBe('INVALID_STATE');
    }
    expect(entries()).toBe(before);
  });
});
