import { ClientTokens } from '../src/common/auth/client-tokens';
import { directRoomId } from '../src/common/protocol/direct-rooms';
import { eventually, meshHealthy } from './support/cluster';
import { join, receivedUpTo, requestJoin, retrying, useCluster } from './support/rooms';
import { ClientPool, type Frame, type TestClient } from './support/test-client';

const SECRET = 'e2e-private-rooms-secret-0123456789abcdef';
const tokens = new ClientTokens(SECRET);

/**
 * Private rooms and direct messages on three real nodes in token mode (privacy needs users that
 * are who they say). ann creates a private room on node1; bob, not invited, finds it nowhere and
 * is refused as for a room that does not exist, until ann invites him through node3. dave (node2)
 * and erin (node3) open their direct conversation at the same moment and land in one room, which
 * frank can neither see nor join.
 */
describe('private rooms and direct messages across three nodes', () => {
  const ctx = useCluster(3, { AUTH_MODE: 'token', AUTH_SECRET: SECRET });
  const pool = new ClientPool();
  const node = (n: number) => ctx.cluster.node(n);
  const open = async (n: number, user: string) => pool.connect(`${node(n).url}?token=${encodeURIComponent(await tokens.mint(user, '1h'))}`);
  const ids = (f: Frame) => (f.data.rooms as { room_id: string }[]).map((r) => r.room_id);
  const discovered = async (c: TestClient) => ids(await c.request('discover_rooms', {}, 'global_rooms_list'));
  const listed = async (c: TestClient) => ids(await c.request('list_rooms', {}, 'rooms_list'));
  let roomId: string;
  let annOn1: TestClient;

  beforeAll(async () => {
    await meshHealthy(ctx.cluster.nodes);
    annOn1 = await open(1, 'ann');
    const created = await retrying(() => annOn1.request('create_room', { room_name: 'hidden', creator_id: 'ann', private: true }, 'room_created'));
    roomId = created.data.room_id as string;
    expect(roomId).toEqual(expect.any(String));
    expect(Object.keys(created.data).sort()).toEqual(['admin_node', 'created_at', 'members', 'room_id', 'room_name']);
  });
  afterAll(() => pool.closeAll());

  it('is invisible to a non-member on every node: not listed, join, history and search answered as for a room that does not exist', async () => {
    const annOn2 = await open(2, 'ann');
    // ann sees it everywhere (node2 from its own replica once applied), marked private
    await eventually(async () => (await discovered(annOn2)).includes(roomId), 5000);
    const mine = ((await annOn1.request('list_rooms', {}, 'rooms_list')).data.rooms as Record<string, unknown>[]).find((r) => r.room_id === roomId);
    expect(mine).toMatchObject({ room_name: 'hidden', private: true });
    for (const n of [1, 2, 3]) {
      const bob = await open(n, 'bob');
      expect(await discovered(bob)).not.toContain(roomId);
      expect(await listed(bob)).not.toContain(roomId);
      const refused = await requestJoin(bob, roomId, 'bob');
      expect(refused.type).toBe('join_room_error');
      expect(refused.data).toMatchObject({ room_id: roomId, error_code: 'ROOM_NOT_FOUND', error: 'Room not found' });
      expect((await bob.request('get_history', { room_id: roomId }, 'history', 'history_error')).data).toMatchObject({ error_code: 'ROOM_NOT_FOUND' });
      expect((await bob.request('search_messages', { room_id: roomId, username: 'bob', query: 'x' }, 'search_results', 'error')).data).toMatchObject({ error_code: 'ROOM_NOT_FOUND' });
      expect((await bob.request('delete_room', { room_id: roomId, username: 'bob' }, 'delete_room_success', 'delete_room_failed')).data).toMatchObject({ error_code: 'ROOM_NOT_FOUND' });
    }
    // a room id nobody knows gets the very same answers
    const bob = await open(2, 'bob');
    const nowhere = '00000000-0000-4000-8000-000000000000';
    expect((await requestJoin(bob, nowhere, 'bob')).data).toMatchObject({ error_code: 'ROOM_NOT_FOUND', error: 'Room not found' });
    expect((await bob.request('get_history', { room_id: nowhere }, 'history', 'history_error')).data).toEqual({ room_id: nowhere, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
    expect((await bob.request('get_history', { room_id: roomId }, 'history', 'history_error')).data).toEqual({ room_id: roomId, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
    expect((await bob.request('invite_user', { room_id: nowhere, username: 'bob', member: 'bob' }, 'invite_user_success', 'error')).data).toMatchObject({ error_code: 'ROOM_NOT_FOUND' });
    expect((await bob.request('invite_user', { room_id: roomId, username: 'bob', member: 'bob' }, 'invite_user_success', 'error')).data).toMatchObject({ error_code: 'ROOM_NOT_FOUND' });
  });

  it('is visible and joinable after an invitation made through another node; the invitee is told', async () => {
    const annOn3 = await open(3, 'ann');
    await join(annOn3, roomId, 'ann');
    const bobOn2 = await open(2, 'bob');
    const invited = await annOn3.request('invite_user', { room_id: roomId, username: 'ann', member: 'bob' }, 'invite_user_success', 'error');
    expect(invited).toEqual({ type: 'invite_user_success', data: { room_id: roomId, member: 'bob' } });
    await eventually(() => bobOn2.frames.some((f) => f.type === 'room_invitation' && f.data.room_id === roomId && f.data.invited_by === 'ann' && f.data.room_name === 'hidden'), 5000);
    // inviting again changes nothing and is answered the same
    expect((await annOn3.request('invite_user', { room_id: roomId, username: 'ann', member: 'bob' }, 'invite_user_success', 'error')).type).toBe('invite_user_success');
    for (const n of [1, 2, 3]) {
      const bob = await open(n, 'bob');
      await eventually(async () => (await discovered(bob)).includes(roomId), 5000);
    }
    expect(await listed(await open(1, 'bob'))).toContain(roomId);
    await join(bobOn2, roomId, 'bob');
    const sent = await bobOn2.request('send_message', { room_id: roomId, username: 'bob', content: 'thanks for the invite' }, 'message_sent', 'message_error');
    expect(sent.type).toBe('message_sent');
    await receivedUpTo(annOn3, roomId, sent.data.sequence_number as number);
    // a user who is not a member may not invite
    const carol = await open(2, 'carol');
    expect((await carol.request('invite_user', { room_id: roomId, username: 'carol', member: 'carol' }, 'invite_user_success', 'error')).data).toMatchObject({ error_code: 'ROOM_NOT_FOUND', request: 'invite_user' });
  });

  it('refuses invitations to a public room', async () => {
    const pub = await retrying(() => annOn1.request('create_room', { room_name: 'open-door', creator_id: 'ann' }, 'room_created'));
    await join(annOn1, pub.data.room_id as string, 'ann');
    const refused = await annOn1.request('invite_user', { room_id: pub.data.room_id, username: 'ann', member: 'bob' }, 'invite_user_success', 'error');
    expect(refused.data).toMatchObject({ error_code: 'INVALID_STATE', request: 'invite_user', member: 'bob' });
  });

  it('a direct conversation opened from both ends at once, on two nodes, is one room; a third user can neither see nor join it', async () => {
    const dave = await open(2, 'dave');
    const erin = await open(3, 'erin');
    const [fromDave, fromErin] = await Promise.all([
      retrying(() => dave.request('open_direct', { username: 'dave', with: 'erin' }, 'join_room_success', 'error')),
      retrying(() => erin.request('open_direct', { username: 'erin', with: 'dave' }, 'join_room_success', 'error')),
    ]);
    expect(fromDave.type).toBe('join_room_success');
    expect(fromErin.type).toBe('join_room_success');
    const direct = directRoomId('dave', 'erin');
    expect(fromDave.data.room_id).toBe(direct);
    expect(fromErin.data.room_id).toBe(direct);
    // opening it again (any node) joins the same room
    const daveOn1 = await open(1, 'dave');
    expect((await retrying(() => daveOn1.request('open_direct', { username: 'dave', with: 'erin' }, 'join_room_success', 'error'))).data.room_id).toBe(direct);
    const sent = await dave.request('send_message', { room_id: direct, username: 'dave', content: 'just us' }, 'message_sent', 'message_error');
    expect(sent.type).toBe('message_sent');
    expect((await receivedUpTo(erin, direct, sent.data.sequence_number as number)).map((m) => m.content)).toContain('just us');
    await eventually(async () => ((await erin.request('discover_rooms', {}, 'global_rooms_list')).data.rooms as Record<string, unknown>[]).some((r) => r.room_id === direct && r.direct === true), 5000);

    for (const n of [1, 2, 3]) {
      const frank = await open(n, 'frank');
      expect(await discovered(frank)).not.toContain(direct);
      expect((await requestJoin(frank, direct, 'frank')).data).toMatchObject({ error_code: 'ROOM_NOT_FOUND' });
    }
    const refused = await dave.request('invite_user', { room_id: direct, username: 'dave', member: 'frank' }, 'invite_user_success', 'error');
    expect(refused.data).toMatchObject({ error_code: 'INVALID_STATE', request: 'invite_user' });
    const notDeleted = await dave.request('delete_room', { room_id: direct, username: 'dave' }, 'delete_room_success', 'delete_room_failed');
    expect(notDeleted.data).toMatchObject({ error_code: 'INVALID_STATE' });
    expect((await dave.request('open_direct', { username: 'dave', with: 'dave' }, 'join_room_success', 'error')).data).toMatchObject({ error_code: 'INVALID_REQUEST', request: 'open_direct' });
  });
});
