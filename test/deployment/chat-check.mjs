// Cross-node chat check for the Swarm test: real WebSocket clients speaking the client protocol.
//   node chat-check.mjs chat ws://A ws://B [room-name]   alice@A creates+joins, bob@B discovers+joins,
//                                                         both send, both must receive both messages
//   node chat-check.mjs room-visible ws://X ROOM_ID       discover_rooms on X lists ROOM_ID
//   node chat-check.mjs history ws://X ROOM_ID N          joining ROOM_ID on X replays >= N stored messages
//   node chat-check.mjs watch-close ws://X SECONDS        connects, then reports how the server closes it
// Prints one JSON line on success and exits 0; prints the reason and exits 1 otherwise.
import WebSocket from 'ws';

const STEP_TIMEOUT_MS = Number(process.env.CHAT_STEP_TIMEOUT_MS ?? 15000);

function connect(url, who) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 10000 });
    const inbox = [];
    const waiters = [];
    ws.on('message', (raw) => {
      let frame;
      try {
        frame = JSON.parse(raw.toString());
      } catch {
        return;
      }
      inbox.push(frame);
      for (const w of [...waiters]) w.check();
    });
    ws.once('open', () =>
      resolve({
        send: (type, data) => ws.send(JSON.stringify(data === undefined ? { type } : { type, data })),
        // Resolves with the first frame (received before or after the call) that matches.
        waitFor(pred, what, timeoutMs = STEP_TIMEOUT_MS) {
          return new Promise((res, rej) => {
            const w = {
              check() {
                const i = inbox.findIndex(pred);
                if (i >= 0) {
                  const [f] = inbox.splice(i, 1);
                  clearTimeout(w.timer);
                  waiters.splice(waiters.indexOf(w), 1);
                  res(f);
                }
              },
            };
            w.timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(w), 1);
              const seen = inbox.map((f) => f.type).join(',') || 'nothing';
              rej(new Error(`${who}@${url}: no ${what} within ${timeoutMs} ms (unconsumed frames: ${seen})`));
            }, timeoutMs);
            waiters.push(w);
            w.check();
          });
        },
        close: () => ws.close(),
      }),
    );
    ws.once('error', (err) => reject(new Error(`${who}@${url}: ${err.message}`)));
  });
}

async function discover(client, roomId, deadlineMs) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    client.send('discover_rooms', {});
    const list = await client.waitFor((f) => f.type === 'global_rooms_list' || f.type === 'error', 'global_rooms_list');
    const rooms = list.data?.rooms ?? [];
    if (rooms.some((r) => r.room_id === roomId)) return list.data;
    if (Date.now() > until) throw new Error(`room ${roomId} not in discover_rooms: ${JSON.stringify(list.data)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function chat(urlA, urlB, roomName) {
  const alice = await connect(urlA, 'alice');
  const bob = await connect(urlB, 'bob');
  try {
    alice.send('create_room', { room_name: roomName, creator_id: 'alice', description: null });
    const created = await alice.waitFor((f) => f.type === 'room_created', 'room_created');
    const roomId = created.data?.room_id;
    if (!roomId) throw new Error(`create_room failed: ${JSON.stringify(created)}`);
    alice.send('join_room', { room_id: roomId, username: 'alice' });
    await alice.waitFor((f) => f.type === 'join_room_success', 'join_room_success (alice)');

    const listing = await discover(bob, roomId, STEP_TIMEOUT_MS);
    bob.send('join_room', { room_id: roomId, username: 'bob' });
    await bob.waitFor((f) => f.type === 'join_room_success', 'join_room_success (bob)');

    const fromB = `hello from bob via ${urlB} ${Date.now()}`;
    bob.send('send_message', { room_id: roomId, username: 'bob', content: fromB });
    await bob.waitFor((f) => f.type === 'message_sent', 'message_sent (bob)');
    const gotA = await alice.waitFor((f) => f.type === 'new_message' && f.data?.content === fromB, "new_message with bob's text (alice)");

    const fromA = `hello from alice via ${urlA} ${Date.now()}`;
    alice.send('send_message', { room_id: roomId, username: 'alice', content: fromA });
    await alice.waitFor((f) => f.type === 'message_sent', 'message_sent (alice)');
    await bob.waitFor((f) => f.type === 'new_message' && f.data?.content === fromA, "new_message with alice's text (bob)");

    return { room_id: roomId, host: created.data?.admin_node ?? null, nodes_available: listing.nodes_available ?? null, delivered: 2, sample: gotA.data?.username ?? null };
  } finally {
    alice.close();
    bob.close();
  }
}

async function roomVisible(url, roomId) {
  const c = await connect(url, 'carol');
  try {
    const data = await discover(c, roomId, STEP_TIMEOUT_MS);
    return { room_id: roomId, total_count: data.total_count, nodes_available: data.nodes_available ?? null };
  } finally {
    c.close();
  }
}

async function history(url, roomId, atLeast) {
  const c = await connect(url, 'dave');
  try {
    c.send('join_room', { room_id: roomId, username: 'dave' });
    await c.waitFor((f) => f.type === 'join_room_success', 'join_room_success (dave)');
    const contents = [];
    for (;;) {
      try {
        const m = await c.waitFor((f) => f.type === 'new_message' && f.data?.room_id === roomId, 'replayed new_message', 3000);
        contents.push(m.data.content);
      } catch {
        break;
      }
    }
    if (contents.length < Number(atLeast)) throw new Error(`only ${contents.length} of >= ${atLeast} messages replayed: ${JSON.stringify(contents)}`);
    return { room_id: roomId, replayed: contents.length, first: contents[0] };
  } finally {
    c.close();
  }
}

// Resolves when the server closes the connection: the close code and reason it sent.
function watchClose(url, seconds) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 10000 });
    const timer = setTimeout(() => reject(new Error(`server did not close within ${seconds} s`)), Number(seconds) * 1000);
    ws.once('open', () => console.error('watch-close: connected'));
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    ws.once('error', (err) => reject(new Error(`${url}: ${err.message}`)));
  });
}

const [cmd, ...args] = process.argv.slice(2);
const commands = {
  chat: () => chat(args[0], args[1], args[2] ?? `swarm-${Date.now()}`),
  'room-visible': () => roomVisible(args[0], args[1]),
  history: () => history(args[0], args[1], args[2] ?? 1),
  'watch-close': () => watchClose(args[0], args[1] ?? 60),
};
const run = commands[cmd] ? commands[cmd]() : Promise.reject(new Error(`usage: chat-check.mjs ${Object.keys(commands).join('|')} ...`));
const watchdog = setTimeout(() => {
  console.error('chat-check: overall timeout');
  process.exit(1);
}, (cmd === 'watch-close' ? Number(args[1] ?? 60) * 1000 : 4 * STEP_TIMEOUT_MS) + 10000);
run.then(
  (result) => {
    clearTimeout(watchdog);
    console.log(JSON.stringify(result));
    process.exit(0);
  },
  (err) => {
    console.error(`chat-check: ${err.message}`);
    process.exit(1);
  },
);
