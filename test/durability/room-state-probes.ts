import type { NodeProcess } from '../../src/cluster/node-process';
import { eventually } from '../support/cluster';
import { TestClient, type Frame } from '../support/test-client';
import { isRetryable } from './failover-member';
import { readRoomStates, readRooms } from './node-store';
import type { RoomStateLedger } from './room-state-ledger';

/**
 * The room states of AckLedger.roomState checked through the protocol, on each node given (the
 * databases are checked by checkCluster / checkRoomStates first; these say the nodes act on what
 * they hold): every banned name's join_room is refused with BANNED and every other name the ledger
 * banned or unbanned joins; every moderator may moderate (an unban of a name nobody banned: rights
 * are checked, nothing is written) and a name nobody appointed may not; join_room_success and
 * discover_rooms carry each marking user's last_read and unread_count as the node's own copy has
 * them; every invited name joins the private room and an uninvited one finds no such room. Each
 * probe is its own connection acting as that name: the names' own clients must be closed first (in
 * open mode a name a live connection holds is taken). Probes join rooms: run them last.
 */

/** A fresh connection to `node`. */
async function connect(node: NodeProcess): Promise<TestClient> {
  const client = await TestClient.connect(node.url, { handshakeTimeout: 2000 });
  client.ws.on('error', () => undefined);
  return client;
}

/** join_room as `username` on `client`, retried while refused as retryable or as a name still held (a closed client's); the last reply. */
async function joinAs(client: TestClient, roomId: string, username: string): Promise<Frame> {
  let reply: Frame | undefined;
  await eventually(async () => {
    reply = await client.request('join_room', { room_id: roomId, username, history_limit: 0 }, 'join_room_success', 'join_room_error');
    return reply.type === 'join_room_success' || (!isRetryable(reply.data) && reply.data.error_code !== 'USERNAME_TAKEN');
  }, 10000, 100).catch(() => undefined);
  return reply!;
}

/** Runs `fn` with a fresh connection to `node`, closed after. */
async function withClient<T>(node: NodeProcess, fn: (c: TestClient) => Promise<T>): Promise<T> {
  const client = await connect(node);
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

const describeReply = (f: Frame | undefined) => (f ? `${f.type} ${JSON.stringify(f.data)}` : 'no answer');

/** Everything the nodes do differently from what their databases (and so the ledger) hold about `roomId`; [] when they act on it. */
export async function roomStateProbeViolations(nodes: NodeProcess[], roomId: string, ledger: RoomStateLedger): Promise<string[]> {
  const out: string[] = [];
  const [copy] = readRoomStates(nodes[0], [roomId]);
  const banned = new Set(copy.moderation.filter((r) => r.banned).map((r) => r.username));
  const moderators = copy.moderation.filter((r) => r.moderator && !r.banned).map((r) => r.username);
  for (const node of nodes) {
    const at = node.spec.nodeId;
    for (const name of ledger.names('ban', roomId)) {
      const reply = await withClient(node, (c) => joinAs(c, roomId, name));
      const want = banned.has(name) ? 'BANNED' : 'join_room_success';
      const got = reply?.type === 'join_room_success' ? reply.type : reply?.data.error_code;
      if (got !== want) out.push(`${roomId} via ${at}: ${name} (${banned.has(name) ? '' : 'not '}banned) joining got ${describeReply(reply)}`);
    }
    const rights = async (name: string) =>
      withClient(node, async (c) => {
        const joined = await joinAs(c, roomId, name);
        if (joined?.type !== 'join_room_success') return `join ${describeReply(joined)}`;
        const probe = { room_id: roomId, username: name, member: `never-banned-${name}`.slice(0, 32) };
        let reply: Frame | undefined;
        await eventually(async () => !isRetryable((reply = await c.request('unban_member', probe, 'unban_member_success', 'error')).data), 10000, 100).catch(() => undefined);
        return reply?.type === 'unban_member_success' ? 'moderates' : (reply?.data.error_code ?? describeReply(reply));
      });
    for (const name of moderators) {
      const got = await rights(name);
      if (got !== 'moderates') out.push(`${roomId} via ${at}: moderator ${name} may not moderate: ${got}`);
    }
    const nobody = `plain-${Math.random().toString(36).slice(2, 8)}`;
    const control = await rights(nobody);
    if (control !== 'NOT_MODERATOR') out.push(`${roomId} via ${at}: ${nobody}, appointed by nobody, got ${control} (NOT_MODERATOR expected)`);
    const [stored] = readRooms(node, [roomId]);
    const markers = new Map(readRoomStates(node, [roomId])[0].markers.map((m) => [m.username, m.sequence_number]));
    for (const name of ledger.names('marker', roomId)) {
      if (banned.has(name)) continue;
      const lastRead = markers.get(name) ?? 0;
      const want = { last_read: lastRead, unread_count: stored.messages.filter((m) => m.sequence_number > lastRead && !m.deleted_at).length };
      const seen = await withClient(node, async (c) => {
        const joined = await joinAs(c, roomId, name);
        const listed = await c.request('discover_rooms', {}, 'global_rooms_list');
        const entry = (listed.data.rooms as Record<string, any>[]).find((r) => r.room_id === roomId);
        return { joined: joined && { last_read: joined.data.last_read, unread_count: joined.data.unread_count }, listed: entry && { last_read: entry.last_read, unread_count: entry.unread_count } };
      });
      if (JSON.stringify(seen) !== JSON.stringify({ joined: want, listed: want })) out.push(`${roomId} via ${at}: ${name}'s read state ${JSON.stringify(seen)}, ${at}'s copy holds ${JSON.stringify(want)}`);
    }
  }
  return out;
}

/** Every acked invitee of the private room `roomId` joins it through each node; a name nobody invited is told there is no such room. */
export async function inviteProbeViolations(nodes: NodeProcess[], roomId: string, ledger: RoomStateLedger): Promise<string[]> {
  const out: string[] = [];
  const invited = ledger.names('invite', roomId).filter((n) => ledger.acked('invite', roomId, n).length > 0);
  for (const node of nodes) {
    for (const name of invited) {
      const reply = await withClient(node, (c) => joinAs(c, roomId, name));
      if (reply?.type !== 'join_room_success') out.push(`${roomId} via ${node.spec.nodeId}: invited ${name} cannot join: ${describeReply(reply)}`);
    }
    const stranger = `stranger-${Math.random().toString(36).slice(2, 8)}`;
    const reply = await withClient(node, (c) => joinAs(c, roomId, stranger));
    if (reply?.data.error_code !== 'ROOM_NOT_FOUND') out.push(`${roomId} via ${node.spec.nodeId}: ${stranger}, invited by nobody, joining got ${describeReply(reply)}`);
  }
  return out;
}
