// An unauthenticated flood of one node's XML-RPC port, run as its own process so the test's
// event loop stays free to measure: `node peer-flood.mjs '{"host":..,"port":..,"seconds":..}'`.
// Holds many idle and slow (slowloris) connections, and keeps posting 1 MiB well-formed calls,
// unsigned and with well-formed but wrong signature headers naming a real peer. Prints one JSON
// line of counts.
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';

const o = { idle: 2000, slow: 300, bigUnsigned: 64, bigSigned: 64, peerId: 'node2', ...JSON.parse(process.argv[2]) };
const until = Date.now() + o.seconds * 1000;
const counts = { idleOpened: 0, idleDropped: 0, slowOpened: 0, posts: 0, answered: 0, errors: 0 };
const sockets = new Set();
const MIB = 1024 * 1024;
// a well-formed call with one 1 MiB string: a node that parses before it authenticates does all that work
const head = '<?xml version="1.0"?><methodCall><methodName>replicate_events_json</methodName><params><param><value><string>node2</string></value></param><param><value><string>';
const tail = '</string></value></param></params></methodCall>';
const body = Buffer.concat([Buffer.from(head), Buffer.alloc(MIB - head.length - tail.length, 'x'), Buffer.from(tail)]);

function open(onOpen) {
  const s = net.connect(o.port, o.host);
  sockets.add(s);
  s.on('error', () => counts.errors++);
  s.on('close', () => sockets.delete(s));
  s.once('connect', () => onOpen(s));
  return s;
}

/** Connections that say nothing; reopened when the node drops them. */
function idle() {
  if (Date.now() > until) return;
  open(() => counts.idleOpened++).on('close', () => {
    counts.idleDropped++;
    setTimeout(idle, 50);
  });
}

/** Connections that send a header byte every half second and never finish. */
function slow() {
  if (Date.now() > until) return;
  const s = open(() => {
    counts.slowOpened++;
    s.write('POST /RPC2 HTTP/1.1\r\nHost: x\r\n');
    const t = setInterval(() => (s.writable ? s.write('X') : clearInterval(t)), 500);
    s.on('close', () => {
      clearInterval(t);
      setTimeout(slow, 50);
    });
  });
}

function signatureHeaders() {
  const hex = () => randomBytes(32).toString('hex');
  return [
    `X-Chat-Peer: ${o.peerId}`,
    'X-Chat-Method: replicate_events_json',
    `X-Chat-Boot: ${randomBytes(16).toString('hex')}`,
    `X-Chat-Timestamp: ${Date.now()}`,
    `X-Chat-Nonce: ${randomBytes(16).toString('base64url')}`,
    `X-Chat-Body-SHA256: ${hex()}`,
    `X-Chat-Signature: ${hex()}`,
  ];
}

/** One 1 MiB POST after another on fresh connections, as fast as the node takes them. */
function poster(signed) {
  if (Date.now() > until) return;
  const headers = ['POST /RPC2 HTTP/1.1', 'Host: x', 'Content-Type: text/xml', `Content-Length: ${MIB}`, 'Connection: close', ...(signed ? signatureHeaders() : [])];
  const s = open(() => {
    counts.posts++;
    s.write(`${headers.join('\r\n')}\r\n\r\n`);
    s.write(body);
  });
  let got = false;
  s.on('data', () => {
    if (!got) counts.answered++;
    got = true;
  });
  s.on('close', () => setImmediate(() => poster(signed)));
  s.setTimeout(10_000, () => s.destroy());
}

for (let i = 0; i < o.idle; i++) idle();
for (let i = 0; i < o.slow; i++) slow();
for (let i = 0; i < o.bigUnsigned; i++) poster(false);
for (let i = 0; i < o.bigSigned; i++) poster(true);
setTimeout(() => {
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  process.exit(0);
}, o.seconds * 1000);
