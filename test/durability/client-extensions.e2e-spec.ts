import type { TestClient } from '../support/test-client';
import { sleep } from '../support/cluster';
import { barrier, createRoom, expectContiguous, fullHistory, join, received, receivedUpTo, sendPipelined, sendSequential, useCluster } from '../support/rooms';

/** Resume after reconnect (join_room since_sequence), idempotent sends (client_message_id), get_history paging. */
describe('durability: client extensions across three nodes', () => {
  jest.setTimeout(60000);
  const suite = useCluster(3);
  const open = (node: number) => suite.open(node);


  describe('resume after reconnect (join_room since_sequence)', () => {
    let room: string;
    let bob: TestClient;
    /** The room's last sequence number, as the test before left it. */
    let last = 0;

    beforeAll(async () => {
      bob = await open(1);
      room = await createRoom(bob, 'resume', 'bob'); // hosted by node1
      await join(bob, room, 'bob');
    });

    it('replays exactly the missed messages, in order, when reconnecting to another node', async () => {
      const alice = await open(2);
      await join(alice, room, 'alice');
      await sendSequential(bob, room, 'bob', 20, 'first');
      const seen = await receivedUpTo(alice, room, 20);
      const lastSeen = seen.at(-1)!.sequence_number;
      await alice.close();

      await sendSequential(bob, room, 'bob', 30, 'missed');

      const again = await open(3);
      const joined = await join(again, room, 'alice', lastSeen);
      expect(joined.data).toMatchObject({ first_sequence: 1, last_sequence: 50 });
      const replay = await receivedUpTo(again, room, 50);
      expectContiguous(replay, lastSeen + 1, 50);
      expect(replay.map((m) => m.content)).toEqual(Array.from({ length: 30 }, (_, i) => `missed-${i}`));

      // then live delivery continues with no duplicate
      await sendSequential(bob, room, 'bob', 1, 'live');
      const after = await receivedUpTo(again, room, 51);
      expectContiguous(after, lastSeen + 1, 51);
      last = await barrier(bob, room, 'bob', [again]);
      expectContiguous(received(again, room), lastSeen + 1, last); // nothing arrived twice before the marker
    });

    it('replays nothing when nothing was missed', async () => {
      const c = await open(2);
      const joined = await join(c, room, 'carol', last);
      expect(joined.data.last_sequence).toBe(last);
      last = await barrier(bob, room, 'bob', [c]);
      expect(received(c, room).map((m) => m.sequence_number)).toEqual([last]); // the marker, nothing replayed before it
    });

    it('misses nothing and duplicates nothing when resuming while a burst is being sent', async () => {
      for (const nodeIdx of [2, 1]) {
        const before = (await fullHistory(suite.cluster.node(1), room, 'counter')).joined.data.last_sequence as number;
        const burst = sendPipelined(bob, room, 'bob', 150, `burst-${nodeIdx}`);
        await sleep(20);
        const c = await open(nodeIdx);
        await join(c, room, `resumer-${nodeIdx}`, before);
        await burst;
        const end = before + 150;
        const got = await receivedUpTo(c, room, end);
        expectContiguous(got, before + 1, end);
      }
    });
  });

  describe('send_message client_message_id', () => {
    let room: string;
    let watcher1: TestClient;
    let watcher3: TestClient;

    beforeAll(async () => {
      const owner = await open(1);
      room = await createRoom(owner, 'idempotent', 'owner'); // hosted by node1
      watcher1 = await open(1);
      await join(watcher1, room, 'w1');
      watcher3 = await open(3);
      await join(watcher3, room, 'w3');
    });

    const send = (c: TestClient, username: string, content: string, id: string) =>
      c.request('send_message', { room_id: room, username, content, client_message_id: id }, 'message_sent', 'message_error');

    for (const [where, nodeIdx] of [
      ['forwarded from a member node', 2],
      ['on the host', 1],
    ] as const) {
      it(`a repeat creates no second message (${where})`, async () => {
        const user = `sender-${nodeIdx}`;
        const key = `key-${nodeIdx}`;
        const c = await open(nodeIdx);
        await join(c, room, user);
        const first = await send(c, user, 'hello once', key);
        expect(first.type).toBe('message_sent');
        expect(first.data.client_message_id).toBe(key);
        expect(first.data.duplicate).toBeUndefined();
        const second = await send(c, user, 'hello once', key);
        expect(second.type).toBe('message_sent');
        expect(second.data).toMatchObject({ message_id: first.data.message_id, sequence_number: first.data.sequence_number, client_message_id: key, duplicate: true });
        // a retry with other content still returns the original (the id decides)
        const third = await send(c, user, 'changed content', key);
        expect(third.data).toMatchObject({ message_id: first.data.message_id, duplicate: true });

        // after a reconnect, on another node
        await c.close();
        const c2 = await open(3);
        await join(c2, room, user);
        const fourth = await send(c2, user, 'hello once', key);
        expect(fourth.data).toMatchObject({ message_id: first.data.message_id, sequence_number: first.data.sequence_number, duplicate: true });

        // other members got exactly one new_message for it
        await barrier(watcher1, room, 'w1', [watcher1, watcher3]); // later than every copy of it that could come
        for (const w of [watcher1, watcher3]) {
          expect(received(w, room).filter((m) => m.message_id === first.data.message_id)).toHaveLength(1);
          expect(received(w, room).filter((m) => m.username === user)).toHaveLength(1);
        }
        const history = await fullHistory(suite.cluster.node(2), room, `h-${nodeIdx}`);
        expect(history.messages.filter((m) => m.username === user).map((m) => m.content)).toEqual(['hello once']);
      });
    }

    it('a retry of the same id sent before the first was answered creates one message', async () => {
      // (two sockets of one user cannot race any more in open mode: the second gets USERNAME_TAKEN)
      const a = await open(2);
      await join(a, room, 'twin');
      const payload = { room_id: room, username: 'twin', content: 'race', client_message_id: 'race-1' };
      a.send('send_message', payload);
      a.send('send_message', payload); // forwarded sends are pipelined: both are in flight at once
      const [ra, rb] = [await a.nextOf('message_sent'), await a.nextOf('message_sent')];
      expect(ra.type).toBe('message_sent');
      expect(rb.type).toBe('message_sent');
      expect(ra.data.message_id).toBe(rb.data.message_id);
      expect([ra.data.duplicate, rb.data.duplicate].filter(Boolean)).toHaveLength(1);
      const history = await fullHistory(suite.cluster.node(1), room, 'h-twin');
      expect(history.messages.filter((m) => m.username === 'twin')).toHaveLength(1);
    });

    it('the id is scoped to the user: another user with the same id gets a new message', async () => {
      const a = await open(1);
      await join(a, room, 'other-user');
      const r = await send(a, 'other-user', 'mine', 'key-2');
      expect(r.type).toBe('message_sent');
      expect(r.data.duplicate).toBeUndefined();
    });
  });

  describe('get_history paging', () => {
    let room: string;
    let last: number;

    beforeAll(async () => {
      const sender = await open(1);
      room = await createRoom(sender, 'paging', 'sender'); // hosted by node1
      await join(sender, room, 'sender');
      await sendPipelined(sender, room, 'sender', 250, 'p');
      last = 250;
    });

    for (const nodeIdx of [1, 2]) {
      it(`pages backwards by 100 with the right has_more flags (node${nodeIdx}${nodeIdx === 1 ? ', host' : ', replica'})`, async () => {
        const c = await open(nodeIdx);
        await join(c, room, `reader-${nodeIdx}`, last); // resume at the end: the replica has caught up to it
        const page = (req: Record<string, unknown>) => c.request('get_history', { room_id: room, ...req }, 'history', 'history_error');

        const p1 = await page({ limit: 100 });
        expect(p1.type).toBe('history');
        expect(p1.data).toMatchObject({ room_id: room, has_more: true, first_sequence: 1, last_sequence: last });
        expectContiguous(p1.data.messages, 151, 250);
        expect(p1.data.messages.map((m: { content: string }) => m.content)).toEqual(Array.from({ length: 100 }, (_, i) => `p-${150 + i}`));
        const p2 = await page({ before_sequence: p1.data.messages[0].sequence_number, limit: 100 });
        expectContiguous(p2.data.messages, 51, 150);
        expect(p2.data.has_more).toBe(true);
        const p3 = await page({ before_sequence: p2.data.messages[0].sequence_number, limit: 100 });
        expectContiguous(p3.data.messages, 1, 50);
        expect(p3.data.has_more).toBe(false);

        const f1 = await page({ after_sequence: 0, limit: 200 });
        expectContiguous(f1.data.messages, 1, 200);
        expect(f1.data.has_more).toBe(true);
        const f2 = await page({ after_sequence: 200, limit: 200 });
        expectContiguous(f2.data.messages, 201, 250);
        expect(f2.data.has_more).toBe(false);

        const dflt = await page({});
        expectContiguous(dflt.data.messages, 201, 250); // default limit 50

        for (const bad of [{ limit: 201 }, { limit: 0 }, { before_sequence: 0 }, { after_sequence: -1 }, { limit: 1.5 }]) {
          const r = await page(bad);
          expect({ bad, type: r.type, code: r.data.error_code }).toEqual({ bad, type: 'history_error', code: 'INVALID_REQUEST' });
        }
      });
    }

    it('refuses get_history from a connection that is not in the room', async () => {
      const c = await open(3);
      const r = await c.request('get_history', { room_id: room, limit: 10 }, 'history', 'history_error');
      expect(r.type).toBe('history_error');
      expect(r.data.error_code).toBe('NOT_MEMBER');
    });
  });
});

