import { meshHealthy, sleep } from '../support/cluster';
import { createRoom, join, requestJoin, retrying, useCluster } from '../support/rooms';
import type { Frame, TestClient } from '../support/test-client';

/**
 * Five real nodes, a room hosted by node1. With five voters a follower learns that an entry is
 * committed only from the host's next append, so when node1 is killed right after acknowledging a
 * ban and a mute, the node elected next may hold both without having applied them. It must not
 * check requests against that state (RoomLogs.serve waits until it has applied everything committed
 * before its epoch): the banned name is refused and the muted member's send too, through every node.
 * Whether a run opens that window depends on timing, and on localhost it seldom does: the commit
 * notices leave with the acknowledgement, so the followers have usually applied both before node1
 * dies (four runs of this spec against the code without RoomLogs.serve's wait passed as well). The
 * unit spec src/modules/rooms/host/new-host-catch-up.spec.ts opens the window on purpose; this one
 * checks the whole path on five processes: clients get the usual retryable refusals during the
 * failover, then the ban and the mute, never a deadlock.
 */
describe('five nodes: moderation committed right before the host dies holds on the new host', () => {
  jest.setTimeout(120_000);
  const ctx = useCluster(5, { FAILOVER_TIMEOUT: '2', RATE_LIMITS: 'off' }); // dave asks every 10 ms
  const node = (n: number) => ctx.cluster.node(n);

  it('a ban and a mute acknowledged, then the host killed at once: the new host refuses the banned name on every node, and the muted member', async () => {
    await meshHealthy(ctx.cluster.nodes);
    const alice = await ctx.open(1);
    const roomId = await createRoom(alice, 'five-moderated', 'alice');
    await join(alice, roomId, 'alice');
    const carol: TestClient = await ctx.open(4);
    await join(carol, roomId, 'carol');
    const moderate = (type: string, data: Record<string, unknown>) => alice.request(type, { room_id: roomId, username: 'alice', ...data }, `${type}_success`, 'error');

    const [banned, muted] = await Promise.all([moderate('ban_member', { member: 'dave' }), moderate('mute_member', { member: 'carol', seconds: 600 })]);
    expect([banned.type, muted.type]).toEqual(['ban_member_success', 'mute_member_success']);
    await node(1).stop('SIGKILL');

    // dave asks through every survivor, twice each, every 10 ms while refused retryably: some ask the
    // moment the new host is elected, before it has applied what node1 committed
    const deadline = Date.now() + 30_000;
    const asking = [2, 2, 3, 3, 4, 4, 5, 5].map(async (n) => {
      const client = await ctx.open(n);
      for (;;) {
        const reply = await requestJoin(client, roomId, 'dave');
        if (reply.data?.retryable !== true || Date.now() > deadline) return reply;
        await sleep(10);
      }
    });
    for (const reply of await Promise.all(asking)) expect(reply.data).toMatchObject({ error_code: 'BANNED' });
    const send: Frame = await retrying(() => carol.request('send_message', { room_id: roomId, username: 'carol', content: 'can I talk?' }, 'message_sent', 'message_error'));
    expect(send).toMatchObject({ type: 'message_error', data: { room_id: roomId, error_code: 'MUTED' } });
  });
});
