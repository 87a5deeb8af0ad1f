import { gzipSync } from 'node:zlib';
import { httpStatus, type NodeProcess } from '../src/cluster/node-process';
import { decodeMethodResponse } from '../src/common/xmlrpc/xmlrpc-codec';
import { PeerCallSigner } from '../src/common/xmlrpc/peer-signature';
import { bootOf } from './support/peer-rpc';
import { OPEN_CALL_MAX_BYTES } from '../src/modules/peers/peer-authenticator';
import { XmlRpcFault } from '../src/common/xmlrpc/xmlrpc-fault';
import { eventually, TestCluster } from './support/cluster';
import { ClientPool, type TestClient, type Frame } from './support/test-client';
import { SeededRandom } from './durability/seeded-random';

/**
 * Fuzzes real node processes with deterministic pseudo-random input and checks the project's rule:
 * a node never crashes on input from the network, every bad input gets a clear error (the
 * protocol's error frame or an XML-RPC fault), and nothing already accepted is lost.
 *
 * Reproduce a failure with FUZZ_SEED=<seed from the test name>. Two nodes: node1 hosts the rooms,
 * node2 replicates them, so the WebSocket fuzz on node2 also exercises the forwarded (XML-RPC) paths.
 * The nodes have a PEER_SECRET: well-formed fuzzed calls are signed as the other node (so they reach
 * the handlers), and some are sent unsigned, with a wrong secret, stale, replayed or from a stranger.
 */
const SEED = Number(process.env.FUZZ_SEED || 0x5eed2024) >>> 0;
const WS_CONNECTIONS = [1, 1, 1, 1, 2, 2]; // the node each fuzzing connection talks to
const WS_FRAMES_PER_CONNECTION = 260; // one at a time, then
const WS_BURST = 60; // sent back to back without waiting
const RPC_CALLS_PER_NODE = 800;
const REPLY_TIMEOUT_MS = 15_000;
const MAX_FRAME = 1_000_000; // stay below the 1 MiB limit (bigger frames are closed with 1009 by design)

// --- generators of hostile values --------------------------------------------------------------

const CDATA_BREAKER = '<x]]>]]></string></value></param><param><value><string>injected';

const SPECIAL_STRINGS = [
  '', ' ', '   ', '\u0000', '\u0007', '\u001b[31mred', '\u007f', '\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', '\uffff', '\ufffe',
  '\ufeff', '\u200b', '\u202eevil', '😀', '👩‍👩‍👧‍👦', 'e\u0301', '𝕳𝖊𝖑𝖑𝖔', '\r\n', '\t', 'NaN', 'Infinity', '-Infinity', '-0', '1e309',
  'null', 'undefined', 'true', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '<script>alert(1)</script>',
  "'; DROP TABLE rooms; --", '%s%n%x', '../../etc/passwd', '${process.exit()}', '{{7*7}}', '\\', '"', ']]>', '&amp;', '&#0;',
  '<?xml version="1.0"?>', 'ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ', '\u0085', '\u2028\u2029',
  // what the xmlrpc package's serializer would put in CDATA: "\r" lost, a second "]]>" ending it early
  CDATA_BREAKER, '<b>\r\n</b> & \r',
];
const HUGE_NUMBERS = [2 ** 31, -(2 ** 31) - 1, 2 ** 53, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e21, -1e300, Number.MAX_VALUE, Number.MIN_VALUE, -0];
/** Number literals JSON.stringify cannot produce: injected as raw text. */
const RAW_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '-0', '0.1e-400', '1E2', '9007199254740993', '-0.0'];

/** A JSON value spliced in as raw text (see toJson). */
class RawJson {
  constructor(readonly text: string) {}
}

function randomChar(rng: SeededRandom): string {
  return rng.weighted<() => string>([
    [40, () => String.fromCharCode(rng.int(0x20, 0x7e))],
    [8, () => String.fromCharCode(rng.int(0, 0x1f))],
    [10, () => String.fromCharCode(rng.int(0xa0, 0xd7ff))],
    [4, () => String.fromCharCode(rng.int(0xd800, 0xdfff))], // lone surrogates
    [4, () => String.fromCharCode(rng.int(0xe000, 0xffff))],
    [8, () => String.fromCodePoint(rng.int(0x10000, 0x10ffff))],
    [4, () => rng.pick(SPECIAL_STRINGS)],
  ])();
}

function randomString(rng: SeededRandom): string {
  return rng.weighted<() => string>([
    [30, () => Array.from({ length: rng.int(1, 24) }, () => randomChar(rng)).join('')],
    [20, () => rng.pick(SPECIAL_STRINGS)],
    [8, () => rng.pick(['x', 'é', '😀']).repeat(rng.pick([63, 64, 65, 99, 100, 101, 1000, 1001, 4999, 5000, 5001, 10_000]))],
    [2, () => 'y'.repeat(rng.int(50_000, 200_000))],
    [4, () => Array.from({ length: 300 }, () => randomChar(rng)).join('')],
  ])();
}

function garbage(rng: SeededRandom, depth = 0): unknown {
  const leaf: (readonly [number, () => unknown])[] = [
    [6, () => null],
    [4, () => rng.chance(0.5)],
    [6, () => rng.int(-5, 5)],
    [4, () => rng.pick(HUGE_NUMBERS)],
    [2, () => rng.float() * 1e6 - 5e5],
    [3, () => new RawJson(rng.pick(RAW_NUMBERS))],
    [12, () => randomString(rng)],
  ];
  const nested: (readonly [number, () => unknown])[] =
    depth > 4
      ? []
      : [
          [4, () => Array.from({ length: rng.int(0, 4) }, () => garbage(rng, depth + 1))],
          [4, () => Object.fromEntries(Array.from({ length: rng.int(0, 4) }, () => [rng.chance(0.3) ? rng.pick(['__proto__', 'constructor', 'prototype', 'type', 'data', 'room_id']) : randomString(rng).slice(0, 20), garbage(rng, depth + 1)]))],
          [1, () => deepArray(rng.int(20, 2000))],
        ];
  return rng.weighted([...leaf, ...nested])();
}

function deepArray(depth: number): RawJson {
  return new RawJson('['.repeat(depth) + ']'.repeat(depth));
}

/** JSON.stringify that splices RawJson values in as raw text; lone surrogates come out escaped. */
function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => (v instanceof RawJson ? `@@RAW${raws.push(v.text) - 1}@@` : v));
  return text.replace(/"@@RAW(\d+)@@"/g, (_m, i: string) => raws[Number(i)]);
}

// --- WebSocket frames ----------------------------------------------------------------------------

// typing is left out: it has no answer to wait for (a refusal aside)
const REQUEST_TYPES = ['list_rooms', 'discover_rooms', 'create_room', 'join_room', 'send_message', 'leave_room', 'delete_room', 'get_history', 'edit_message', 'delete_message', 'mark_read', 'search_messages', 'invite_user', 'open_direct', 'add_moderator', 'kick_member', 'ban_member', 'unban_member', 'mute_member'] as const;
type RequestType = (typeof REQUEST_TYPES)[number];

/** The frame types that answer each request (successful or not). */
const REPLIES: Record<RequestType | 'junk', string[]> = {
  list_rooms: ['rooms_list', 'error'],
  discover_rooms: ['global_rooms_list', 'error'],
  create_room: ['room_created'],
  join_room: ['join_room_success', 'join_room_error'],
  send_message: ['message_sent', 'message_error'],
  leave_room: ['leave_room_success', 'error'],
  delete_room: ['delete_room_success', 'delete_room_failed'],
  get_history: ['history', 'history_error'],
  edit_message: ['edit_message_success', 'error'],
  delete_message: ['delete_message_success', 'error'],
  mark_read: ['mark_read_success', 'error'],
  search_messages: ['search_results', 'error'],
  invite_user: ['invite_user_success', 'error'],
  open_direct: ['join_room_success', 'error'],
  add_moderator: ['add_moderator_success', 'error'],
  kick_member: ['kick_member_success', 'error'],
  ban_member: ['ban_member_success', 'error'],
  unban_member: ['unban_member_success', 'error'],
  mute_member: ['mute_member_success', 'error'],
  junk: ['error'],
};
/** Frames a connection may get at any time, not in answer to its own request. */
const EVENTS = new Set(['new_message', 'member_joined', 'member_left', 'delete_room_initiated', 'room_deleted', 'delete_room_cancelled', 'room_unavailable', 'room_available', 'message_edited', 'message_deleted', 'user_typing', 'read_marker', 'room_invitation', 'moderator_added', 'member_kicked', 'member_banned', 'member_unbanned', 'member_muted']);
const ANY_REPLY = new Set(Object.values(REPLIES).flat());
const ERROR_REPLIES = new Set(['error', 'join_room_error', 'message_error', 'history_error', 'delete_room_failed']);

interface FuzzFrame {
  label: string;
  payload: string | Buffer;
  binary: boolean;
  expect: string[];
}

interface WsContext {
  username: string;
  keeperRoom: string;
  otherRooms: string[]; // rooms this connection created during the fuzz (it may delete them)
  index: number;
}

function validContent(rng: SeededRandom): string {
  return rng.weighted<() => string>([
    [10, () => `msg ${rng.int(0, 1e6)}`],
    [3, () => '😀'.repeat(rng.int(1, 5000))],
    [3, () => 'long '.repeat(rng.int(1, 999))],
    [3, () => Array.from({ length: rng.int(1, 40) }, () => String.fromCodePoint(rng.pick([0x09, 0x0a, 0x0d, rng.int(0x20, 0xd7ff), rng.int(0xe000, 0xfffd), rng.int(0x10000, 0x10ffff)]))).join('')],
    [2, () => rng.pick(['<b>&amp;</b>', ']]>', "it's \"quoted\"", 'a\r\nb', '\u200b\u202e', 'e\u0301'])],
  ])();
}

/** A well-formed request of `type` for this connection (it may still be refused, e.g. NOT_MEMBER). */
function baseRequest(rng: SeededRandom, type: RequestType, ctx: WsContext): Record<string, unknown> | undefined {
  const room = () => (ctx.otherRooms.length > 0 && rng.chance(0.2) ? rng.pick(ctx.otherRooms) : ctx.keeperRoom);
  switch (type) {
    case 'list_rooms':
    case 'discover_rooms':
      return rng.chance(0.5) ? undefined : {};
    case 'create_room':
      return { room_name: `fz-${ctx.username}-${ctx.index}`, creator_id: ctx.username, description: rng.chance(0.5) ? null : validContent(rng).slice(0, 500), ...(rng.chance(0.3) ? { private: true } : {}) };
    case 'join_room':
      return { room_id: room(), username: ctx.username, ...(rng.chance(0.3) ? { since_sequence: rng.int(0, 50) } : {}) };
    case 'send_message':
      return { room_id: ctx.keeperRoom, username: ctx.username, content: validContent(rng), ...(rng.chance(0.3) ? { client_message_id: `c-${rng.int(0, 40)}` } : {}) };
    case 'leave_room':
      return { room_id: room(), username: ctx.username };
    case 'delete_room':
      return { room_id: room(), username: ctx.username };
    case 'edit_message':
      return { room_id: ctx.keeperRoom, username: ctx.username, message_id: rng.pick(['m-1', '00000000-0000-4000-8000-000000000000', randomString(rng).slice(0, 64)]), content: validContent(rng) };
    case 'delete_message':
      return { room_id: room(), username: ctx.username, message_id: rng.pick(['m-1', '00000000-0000-4000-8000-000000000000', randomString(rng).slice(0, 64)]) };
    case 'mark_read':
      return { room_id: room(), username: ctx.username, sequence_number: rng.pick([0, 1, rng.int(0, 100), 2 ** 31]) };
    case 'search_messages':
      return {
        room_id: room(),
        username: ctx.username,
        query: rng.pick(['msg', 'long', 'NOT msg', '"', 'msg* OR (', 'NEAR(a b', 'content:msg', '😀', randomString(rng).slice(0, 200) || 'x']),
        ...(rng.chance(0.3) ? { limit: rng.int(1, 100) } : {}),
        ...(rng.chance(0.3) ? { before_sequence: rng.int(1, 100) } : {}),
      };
    case 'invite_user':
      return { room_id: room(), username: ctx.username, member: rng.pick(['someone', ctx.username, `fz-${rng.int(0, 20)}`, randomString(rng).slice(0, 64) || 'x']) };
    case 'open_direct':
      return { username: ctx.username, with: rng.pick(['someone', ctx.username, `fz-${rng.int(0, 20)}`, randomString(rng).slice(0, 64) || 'x']) };
    case 'add_moderator':
    case 'unban_member':
      return { room_id: room(), username: ctx.username, member: moderated(rng, ctx) };
    case 'kick_member':
    case 'ban_member':
      return { room_id: room(), username: ctx.username, member: moderated(rng, ctx), ...(rng.chance(0.5) ? { reason: validContent(rng).slice(0, 500) } : {}) };
    case 'mute_member':
      return { room_id: room(), username: ctx.username, member: moderated(rng, ctx), seconds: rng.pick([1, 2, rng.int(1, 30), 30 * 24 * 3600]) };
    case 'get_history':
      return {
        room_id: room(),
        ...(rng.chance(0.3) ? { before_sequence: rng.int(1, 100) } : {}),
        ...(rng.chance(0.3) ? { after_sequence: rng.int(0, 100) } : {}),
        ...(rng.chance(0.3) ? { limit: rng.int(1, 200) } : {}),
      };
  }
}

/** Whom a moderation request names: the fuzzing user, another fuzzer, or a stranger. */
const moderated = (rng: SeededRandom, ctx: WsContext): string => rng.pick(['someone', ctx.username, `fz-${rng.int(0, 20)}`, randomString(rng).slice(0, 64) || 'x']);

const FIELDS: Record<RequestType, string[]> = {
  list_rooms: ['room_id'],
  discover_rooms: ['nodes'],
  create_room: ['room_name', 'creator_id', 'description', 'private'],
  join_room: ['room_id', 'username', 'since_sequence'],
  send_message: ['room_id', 'username', 'content', 'client_message_id'],
  leave_room: ['room_id', 'username'],
  delete_room: ['room_id', 'username'],
  get_history: ['room_id', 'before_sequence', 'after_sequence', 'limit'],
  edit_message: ['room_id', 'username', 'message_id', 'content'],
  delete_message: ['room_id', 'username', 'message_id'],
  mark_read: ['room_id', 'username', 'sequence_number'],
  search_messages: ['room_id', 'username', 'query', 'limit', 'before_sequence'],
  invite_user: ['room_id', 'username', 'member'],
  open_direct: ['username', 'with'],
  add_moderator: ['room_id', 'username', 'member'],
  kick_member: ['room_id', 'username', 'member', 'reason'],
  ban_member: ['room_id', 'username', 'member', 'reason'],
  unban_member: ['room_id', 'username', 'member'],
  mute_member: ['room_id', 'username', 'member', 'seconds'],
};

/** Mutates a request's fields: missing, wrong types, hostile strings, extra and nested garbage. */
function mutateData(rng: SeededRandom, type: RequestType, data: Record<string, unknown> | undefined): unknown {
  if (rng.chance(0.08)) return garbage(rng); // data is not an object at all
  const out: Record<string, unknown> = { ...(data ?? {}) };
  // an own property even for "__proto__" (a plain assignment would set the prototype instead)
  const put = (key: string, value: unknown) => Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  const mutations = rng.int(1, 3);
  for (let m = 0; m < mutations; m++) {
    const field = rng.pick(FIELDS[type]);
    rng.weighted<() => void>([
      [3, () => delete out[field]],
      [6, () => put(field, garbage(rng))],
      [4, () => put(field, randomString(rng))],
      [2, () => put(field, rng.pick(['NaN', 'Infinity', '-1', '1.5', '0x10', ' 7', '1e3', '']))],
      [2, () => put(field, rng.pick([-1, 1.5, 0, 2 ** 53 + 2, -(2 ** 40), ...HUGE_NUMBERS]))],
      [2, () => put(field, new RawJson(rng.pick(RAW_NUMBERS)))],
      [2, () => put(randomString(rng).slice(0, 30) || 'extra', garbage(rng))],
      [1, () => put(rng.pick(['__proto__', 'constructor', 'type', 'data']), garbage(rng))],
    ])();
  }
  return out;
}

function junkFrame(rng: SeededRandom): FuzzFrame {
  const text = (label: string, payload: string): FuzzFrame => ({ label, payload, binary: false, expect: REPLIES.junk });
  return rng.weighted<() => FuzzFrame>([
    [3, () => text('empty text frame', '')],
    [2, () => ({ label: 'empty binary frame', payload: Buffer.alloc(0), binary: true, expect: REPLIES.junk })],
    [4, () => ({ label: 'random binary', payload: Buffer.from(Array.from({ length: rng.int(1, 2000) }, () => rng.int(0, 255))), binary: true, expect: REPLIES.junk })],
    [4, () => text('non-JSON text', rng.pick(['{', '}', '{"type":', '{"type":"join_room","data":{"room_id":"x"', "{'type':'list_rooms'}", 'undefined', 'NaN', '{type:list_rooms}', '\u0000', '\ufeff{"type":"list_rooms"}x', randomString(rng)]))],
    [4, () => text('JSON non-object', rng.pick(['null', 'true', 'false', '0', '-1', '1e400', '"list_rooms"', '[]', '[{"type":"list_rooms"}]', '[[[[[[[]]]]]]]', toJson(deepArray(5000))]))],
    [2, () => text('JSON non-object', toJson(garbage(rng)).replace(/^\{.*\}$/s, '[]'))],
    [5, () => text('unknown type', toJson({ type: rng.pick(['', 'LIST_ROOMS', ' list_rooms', 'list_rooms ', 'listRooms', 'hello', '__proto__', 'constructor', 'toString', 'error', 'room_created', 'new_message', randomString(rng)]), data: garbage(rng) }))],
    [4, () => text('non-string type', toJson({ type: rng.pick<unknown>([null, 1, true, ['list_rooms'], { t: 'list_rooms' }, new RawJson('1e400')]), data: {} }))],
    [2, () => text('missing type', toJson({ data: { room_id: 'x' } }))],
  ])();
}

function fuzzFrame(rng: SeededRandom, ctx: WsContext): FuzzFrame {
  if (rng.chance(0.18)) return junkFrame(rng);
  const type = rng.weighted<RequestType>([
    [1, 'list_rooms'],
    [1, 'discover_rooms'],
    [2, 'create_room'],
    [3, 'join_room'],
    [6, 'send_message'],
    [1, 'leave_room'],
    [1, 'delete_room'],
    [2, 'get_history'],
    [1, 'edit_message'],
    [1, 'delete_message'],
    [1, 'mark_read'],
    [1, 'search_messages'],
    [1, 'invite_user'],
    [1, 'open_direct'],
    [1, 'add_moderator'],
    [1, 'kick_member'],
    [1, 'ban_member'],
    [1, 'unban_member'],
    [1, 'mute_member'],
  ]);
  const base = baseRequest(rng, type, ctx);
  const mutate = rng.chance(0.65);
  const data = mutate ? mutateData(rng, type, base) : base;
  let payload = toJson(data === undefined && !mutate ? { type } : { type, data });
  if (rng.chance(0.05)) payload = payload.replace(/^\{/, `{"pad":"${'z'.repeat(rng.int(0, 1000))}",`); // extra top-level field
  if (Buffer.byteLength(payload) > MAX_FRAME) payload = toJson({ type, data: { room_id: 'too-big-was-trimmed' } });
  const binary = rng.chance(0.1);
  return { label: `${type}${mutate ? ' (mutated)' : ''}${binary ? ' as binary' : ''}`, payload: binary ? Buffer.from(payload) : payload, binary, expect: REPLIES[type] };
}

/** The first frame answering a request; events in between are skipped, anything else is a problem. */
async function replyTo(client: TestClient, expected: string[]): Promise<{ reply: Frame; strays: Frame[] }> {
  const strays: Frame[] = [];
  const deadline = Date.now() + REPLY_TIMEOUT_MS;
  for (;;) {
    const frame = await client.next(Math.max(1, deadline - Date.now()));
    if (expected.includes(frame.type)) return { reply: frame, strays };
    if (!EVENTS.has(frame.type)) strays.push(frame);
  }
}

/** The sentence of an error the node did not mean to give (a bug reached the exception filter). */
const INTERNAL = /^internal (server )?error/i;

/** Problems with an answer: an internal error, or an error without a code and a sentence. */
function replyProblem(frame: Frame): string | null {
  const d = frame.data as Record<string, unknown> | undefined;
  if (typeof d !== 'object' || d === null) return 'data is not an object';
  if (frame.type === 'room_created' && d.success === false) {
    if (typeof d.message !== 'string' || !d.message) return 'room_created failure without a message';
    if (INTERNAL.test(d.message)) return `internal error: ${d.message}`;
    return null;
  }
  if (!ERROR_REPLIES.has(frame.type)) return null;
  const sentence = frame.type === 'error' ? d.message : frame.type === 'delete_room_failed' ? d.reason : d.error;
  if (typeof d.error_code !== 'string' || !/^[A-Z_]+$/.test(d.error_code)) return `error without an error_code: ${JSON.stringify(d).slice(0, 300)}`;
  if (typeof sentence !== 'string' || !sentence) return `error without a sentence: ${JSON.stringify(d).slice(0, 300)}`;
  if (d.error_code === 'INTERNAL_ERROR' || INTERNAL.test(sentence)) return `internal error: ${sentence}`;
  if (frame.type === 'error' && d.success !== false) return 'error frame without success:false';
  return null;
}

// --- XML-RPC calls -------------------------------------------------------------------------------

/** Parameter kinds of each peer method (src/common/protocol/peer-wire.ts); '?' marks optional ones. */
const RPC_METHODS: Record<string, string[]> = {
  get_hosted_rooms: [],
  join_room: ['room', 'user', 'node', 'node?'],
  leave_room: ['room', 'user', 'node'],
  forward_message: ['room', 'user', 'content', 'node', 'cmid?'],
  receive_message_broadcast: ['room', 'message'],
  receive_member_event_broadcast: ['room', 'event_type', 'member_event'],
  notify_member_disconnect: ['room', 'user', 'node', 'reason?'],
  heartbeat: [],
  prepare_delete_room: ['room', 'txn', 'node', 'user?'],
  commit_delete_room: ['room', 'txn', 'room_name?'],
  rollback_delete_room: ['room', 'txn'],
  room_log_json: ['node', 'log_batch_json'],
  get_room_states: [],
  get_messages: ['room', 'int', 'int?', 'int'],
  forward_messages: ['node', 'forward_items'],
  forward_messages_json: ['node', 'forward_items_json'],
  delete_room: ['room', 'user', 'node'],
  is_username_held: ['user'],
  edit_message: ['room', 'txn', 'user', 'content', 'node'],
  delete_message: ['room', 'txn', 'user', 'node'],
  typing_notice: ['room', 'user', 'node'],
  mark_read: ['room', 'user', 'int', 'node'],
  invite_user: ['room', 'user', 'user', 'node'],
  open_direct: ['user', 'user', 'node'],
  moderate_member: ['room', 'user', 'action', 'user', 'node', 'reason?', 'int?'],
};
const FAULT = { parse: -32700, request: -32600, method: -32601, params: -32602, application: -32500, auth: -32401, refused: -32403 } as const;
const CLIENT_FAULTS = new Set<number>([FAULT.parse, FAULT.request, FAULT.method, FAULT.params, FAULT.auth, FAULT.refused]);

/** An XML-RPC value as XML, and whether it is a valid value (a malformed one must be refused). */
interface XmlValue {
  xml: string;
  valid: boolean;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const v = (inner: string, valid = true): XmlValue => ({ xml: `<value>${inner}</value>`, valid });
const typed = (tag: string, text: string, valid = true): XmlValue => v(`<${tag}>${text}</${tag}>`, valid);

/** A string XML 1.0 can carry, with markup and entities escaped, sometimes in CDATA or untyped. */
function xmlString(rng: SeededRandom, s: string): XmlValue {
  const clean = s.replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '');
  if (rng.chance(0.1) && !clean.includes(']]>')) return v(`<string><![CDATA[${clean}]]></string>`);
  if (rng.chance(0.15)) return v(escapeXml(clean)); // untyped <value> is a string
  return v(`<string>${escapeXml(clean)}</string>`);
}

function xmlGarbage(rng: SeededRandom, depth = 0): XmlValue {
  const options: (readonly [number, () => XmlValue])[] = [
    [5, () => typed(rng.pick(['int', 'i4']), String(rng.pick([0, 1, -1, 2147483647, -2147483648, rng.int(-1e6, 1e6)])))],
    [2, () => v(`<i8>${rng.pick(['9007199254740991', '-9007199254740991', '42'])}</i8>`)],
    [3, () => typed(rng.pick(['int', 'i4', 'i8']), rng.pick(['9007199254740993', '99999999999999999999', '1.5', 'abc', '', ' ', '0x10', '1e3', '--1']), false)],
    [3, () => v(`<double>${rng.pick(['0', '-0.0', '1.5', '-1e308', '3.14159', '.5', '1e-320'])}</double>`)],
    [2, () => v(`<double>${rng.pick(['1e309', 'NaN', 'inf', '-Infinity', '', 'abc', '1,5'])}</double>`, false)],
    [3, () => v(`<boolean>${rng.pick(['0', '1'])}</boolean>`)],
    [1, () => v(`<boolean>${rng.pick(['true', 'false', '2', '', '-1'])}</boolean>`, false)],
    [10, () => xmlString(rng, randomString(rng).slice(0, 20_000))],
    [2, () => v(`<base64>${rng.pick(['aGVsbG8=', '', '!!!notbase64***', Buffer.from(randomString(rng)).toString('base64')])}</base64>`)],
    [2, () => v(`<dateTime.iso8601>${rng.pick(['20240101T00:00:00', '2024-01-01T00:00:00Z', 'not a date', ''])}</dateTime.iso8601>`)],
    [3, () => v(rng.pick(['<nil/>', '<nil></nil>', '<ex:nil/>']))],
    [1, () => v('', true)],
    [1, () => typed(rng.pick(['foo', 'object', 'int32', 'script']), '1', false)],
    [1, () => v('<int>1</int><int>2</int>', false)],
  ];
  if (depth < 4) {
    options.push(
      [3, () => {
        const items = Array.from({ length: rng.int(0, 4) }, () => xmlGarbage(rng, depth + 1));
        return v(`<array><data>${items.map((i) => i.xml).join('')}</data></array>`, items.every((i) => i.valid));
      }],
      [3, () => {
        const members = Array.from({ length: rng.int(0, 4) }, () => [rng.chance(0.3) ? rng.pick(['__proto__', 'constructor', 'room_id', 'kind', '']) : randomString(rng).slice(0, 20), xmlGarbage(rng, depth + 1)] as const);
        const valid = members.every(([, m]) => m.valid);
        return v(`<struct>${members.map(([name, m]) => `<member><name>${escapeXml(name.replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, ''))}</name>${m.xml}</member>`).join('')}</struct>`, valid);
      }],
      [1, () => {
        // the decoder accepts 100 levels; this value may itself sit up to 4 levels deep
        const depthOf = rng.pick([50, 90, 101, 150, 5000]);
        return v(`${'<array><data><value>'.repeat(depthOf)}<int>1</int>${'</value></data></array>'.repeat(depthOf)}`, depthOf <= 90);
      }],
    );
  }
  return rng.weighted(options)();
}

interface RpcPools {
  rooms: string[];
  users: string[];
  nodes: string[];
}

function structXml(fields: Record<string, XmlValue>): XmlValue {
  const entries = Object.entries(fields);
  return v(`<struct>${entries.map(([k, m]) => `<member><name>${escapeXml(k)}</name>${m.xml}</member>`).join('')}</struct>`, entries.every(([, m]) => m.valid));
}

/** A well-typed value of a parameter kind; its content may still be nonsense. */
function typedParam(rng: SeededRandom, kind: string, pools: RpcPools): XmlValue {
  const str = (pool: string[]) => xmlString(rng, rng.chance(0.7) ? rng.pick(pool) : randomString(rng).slice(0, 200));
  const int = () => v(`<int>${rng.pick([0, 1, -1, 5, 1000, 2147483647, -2147483648, rng.int(-10, 200)])}</int>`);
  const maybe = (x: XmlValue) => (rng.chance(0.3) ? garbageField(rng) : x);
  switch (kind.replace('?', '')) {
    case 'room':
      return str(pools.rooms);
    case 'user':
      return str(pools.users);
    case 'node':
      return str(pools.nodes);
    case 'action':
      return str(['add_moderator', 'kick', 'ban', 'unban', 'mute', 'nuke']);
    case 'txn':
      return str(['txn-1', '00000000-0000-4000-8000-000000000000']);
    case 'room_name':
    case 'reason':
      return str(['User disconnected', 'Node unreachable', 'Inactivity', 'some room']);
    case 'cmid':
      return rng.chance(0.3) ? v('<nil/>') : str(['c-1', 'x'.repeat(65)]);
    case 'content':
      return rng.chance(0.7) ? xmlString(rng, validContent(rng)) : xmlGarbage(rng);
    case 'int':
      return int();
    case 'event_type':
      return str(['member_joined', 'member_left', 'new_message', 'room_deleted', 'error']);
    case 'message':
      return chatMessage(rng, pools, maybe);
    case 'member_event':
      return structXml({ room_id: maybe(str(pools.rooms)), username: maybe(str(pools.users)), member_count: maybe(int()), timestamp: maybe(str(['2024-01-01T00:00:00.000Z'])) });
    case 'log_batch_json': {
      // room_log_json: [room_id, message] pairs as JSON text, some malformed, or text that is no JSON array
      const items = Array.from({ length: rng.int(0, 6) }, () => [rng.chance(0.9) ? rng.pick(pools.rooms) : rng.int(0, 9), roomLogMessage(rng, pools)]);
      const text = rng.chance(0.25) ? rng.pick(['', 'not json', '{}', '[1,2', 'null', '[null]', '[["r"]]', `[${'['.repeat(5000)}`]) : JSON.stringify(items);
      return xmlString(rng, text);
    }
    case 'forward_items_json': {
      // forward_messages_json: items as JSON text, some of them malformed, or text that is no JSON array
      const items = Array.from({ length: rng.int(0, 5) }, () => ({
        room_id: rng.chance(0.8) ? rng.pick(pools.rooms) : rng.int(0, 9),
        username: rng.chance(0.8) ? rng.pick(pools.users) : null,
        content: rng.pick<unknown>([validContent(rng), '', 'x'.repeat(5001), '\u0001', 42, ['a'], { a: 1 }]),
        client_message_id: rng.pick<unknown>([null, 'c-1', 7, 'x'.repeat(65)]),
      }));
      const text = rng.chance(0.25) ? rng.pick(['', 'not json', '{}', '[1,2', 'null', '[null]', `[${'['.repeat(5000)}`]) : JSON.stringify(items);
      return xmlString(rng, text);
    }
    case 'forward_items': {
      const items = Array.from({ length: rng.int(0, 5) }, () =>
        rng.chance(0.2) ? xmlGarbage(rng) : structXml({ room_id: maybe(str(pools.rooms)), username: maybe(str(pools.users)), content: maybe(xmlString(rng, validContent(rng))), client_message_id: maybe(v('<nil/>')) }),
      );
      return v(`<array><data>${items.map((e) => e.xml).join('')}</data></array>`, items.every((e) => e.valid));
    }
  }
  throw new Error(`no generator for ${kind}`);
}

/** A struct field that is garbage, dropped or present (used to mutate structs). */
function garbageField(rng: SeededRandom): XmlValue {
  return xmlGarbage(rng, 3);
}

function chatMessage(rng: SeededRandom, pools: RpcPools, maybe: (x: XmlValue) => XmlValue): XmlValue {
  const str = (pool: string[]) => xmlString(rng, rng.chance(0.7) ? rng.pick(pool) : randomString(rng).slice(0, 100));
  const fields: Record<string, XmlValue> = {
    message_id: maybe(str(['m-1', 'm-2'])),
    room_id: maybe(str(pools.rooms)),
    username: maybe(str(pools.users)),
    content: maybe(xmlString(rng, validContent(rng))),
    sequence_number: maybe(v(`<int>${rng.pick([0, 1, 2, 3, -1, 1000, 2147483647])}</int>`)),
    timestamp: maybe(str(['2024-01-01T00:00:00.000Z', 'yesterday'])),
    client_message_id: maybe(v('<nil/>')),
  };
  for (const k of Object.keys(fields)) if (rng.chance(0.1)) delete fields[k];
  return structXml(fields);
}

/**
 * A room log message as a plain object: each type with right or wrong fields, numbers beyond 2^53,
 * entries out of order, senders and receivers that are not the caller and the callee.
 */
function roomLogMessage(rng: SeededRandom, pools: RpcPools): unknown {
  const any = (): unknown =>
    rng.pick<() => unknown>([
      () => rng.pick(pools.rooms),
      () => rng.int(-5, 5000),
      () => rng.pick([2 ** 53 + 1, 1e300, -0.5, 1.5]),
      () => null,
      () => true,
      () => [],
      () => ({ __proto__: { polluted: true }, constructor: 'x' }),
      () => randomString(rng).slice(0, 100),
    ])();
  const maybe = (x: unknown) => (rng.chance(0.15) ? any() : x);
  const epoch = rng.pick([0, 1, 2, 3, rng.int(4, 1_000_000)]);
  const position = () => maybe({ epoch: maybe(rng.int(0, epoch)), index: maybe(rng.int(0, 20)) });
  const type = rng.pick(['append', 'appendResult', 'preVote', 'vote', 'preVoteResult', 'voteResult', 'roomDeleted', 'future_type', '']);
  const base = { type: maybe(type), from: maybe(rng.pick(pools.nodes)), to: maybe(rng.pick(pools.nodes)), epoch: maybe(epoch) };
  switch (type) {
    case 'append': {
      const prev = { epoch: rng.int(0, epoch), index: rng.int(0, 20) };
      const entries = Array.from({ length: rng.int(0, 4) }, (_, i) => ({
        index: maybe(prev.index + 1 + i),
        epoch: maybe(rng.int(prev.epoch, epoch)),
        kind: maybe(rng.pick(['noop', 'message', 'promote', 'room', 'member', 'room_deleted', 'future_kind', ''])),
        sequence: maybe(rng.int(0, 50)),
        clientKey: maybe(rng.pick([null, 'fuzzer-0:c-1', 'x'.repeat(600)])),
        data: maybe({ username: rng.pick(pools.users), content: 'fuzz', message_id: `m-${rng.int(0, 1e6)}`, timestamp: '2024-01-01T00:00:00.000Z' }),
      }));
      return { ...base, prev: maybe(prev), entries: maybe(entries), commit: maybe(rng.int(0, 30)) };
    }
    case 'appendResult':
      return { ...base, ok: maybe(rng.chance(0.5)), match: maybe(rng.int(0, 30)), hint: rng.chance(0.3) ? position() : undefined, learner: maybe(rng.chance(0.2)), disk: maybe('disk-fuzz') };
    case 'preVote':
    case 'vote':
      return { ...base, last: position() };
    case 'preVoteResult':
    case 'voteResult':
      return { ...base, granted: maybe(rng.chance(0.5)), leader: rng.chance(0.2) ? maybe(rng.pick(pools.nodes)) : undefined };
    case 'roomDeleted':
      return { ...base, epoch: 0, room_name: maybe('gone'), transaction_id: maybe(null) };
    default:
      return maybe(base);
  }
}

interface RpcCase {
  label: string;
  method: string;
  path: string;
  body?: string | Buffer;
  headers: Record<string, string>;
  /**
   * What must come back: 'ok' = a result or a -32602 fault; 'fault:<code>' = that fault;
   * 'no-server-fault' = a result or any fault for the caller's mistake (a malformed value inside).
   */
  expect: 'ok' | `fault:${number}` | 'no-server-fault';
  /**
   * How the call is signed (none: sent as is). 'signed' = as the other node of the cluster; the
   * others must be refused with -32401: a wrong secret, a timestamp 2 minutes old, the same
   * signed call sent twice (the second counts), a sender that is not a peer.
   */
  auth?: { method: string; as: 'signed' | 'wrong-secret' | 'stale' | 'replayed' | 'stranger' };
}

function methodCall(name: string, params: XmlValue[], rng: SeededRandom): string {
  const prolog = rng.chance(0.7) ? '<?xml version="1.0"?>\n' : rng.pick(['', '\ufeff', '<?xml version="1.0" encoding="UTF-8"?><!-- c -->']);
  const ws = rng.chance(0.2) ? '\n  ' : '';
  const paramsXml = params.map((p) => `${ws}<param>${p.xml}</param>`).join('');
  return `${prolog}<methodCall>${ws}<methodName>${escapeXml(name)}</methodName>${rng.chance(0.05) && params.length === 0 ? '' : `<params>${paramsXml}</params>`}</methodCall>`;
}

const BILLION_LAUGHS =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">' +
  '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">' +
  '<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">' +
  '<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>' +
  '<methodCall><methodName>heartbeat</methodName><params><param><value><string>&lol9;</string></value></param></params></methodCall>';
const XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>join_room</methodName><params><param><value>&xxe;</value></param></params></methodCall>';

const CONTENT_TYPES = ['text/xml', 'text/xml; charset=utf-8', 'application/xml', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=zz', 'image/png', ''];

function rpcCase(rng: SeededRandom, pools: RpcPools): RpcCase {
  const headers: Record<string, string> = {};
  const ct = rng.pick(CONTENT_TYPES);
  if (ct) headers['Content-Type'] = ct;
  const path = rng.weighted([[10, '/'], [6, '/RPC2'], [1, '/rpc2'], [1, '/RPC2/'], [1, '/?x=1'], [1, '/nope']]);
  const wrongPath = !['/', '/RPC2', '/?x=1'].includes(path);
  const post = (label: string, body: string | Buffer, expect: RpcCase['expect']): RpcCase => ({ label, method: 'POST', path, body, headers, expect: wrongPath ? 'fault:-32600' : expect });

  return rng.weighted<() => RpcCase>([
    [30, () => {
      // a known method with well-typed params of the right number (their contents may be nonsense)
      const name = rng.pick(Object.keys(RPC_METHODS));
      const kinds = RPC_METHODS[name].filter((k) => !k.endsWith('?') || rng.chance(0.5));
      const params = kinds.map((k) => typedParam(rng, k, pools));
      return { ...post(`${name}(typed)`, methodCall(name, params, rng), params.every((p) => p.valid) ? 'ok' : 'no-server-fault'), auth: { method: name, as: 'signed' } };
    }],
    [20, () => {
      // a known method with random params of random number and types
      const name = rng.pick(Object.keys(RPC_METHODS));
      const params = Array.from({ length: rng.weighted([[5, rng.int(0, 5)], [1, rng.int(6, 40)]]) }, () => xmlGarbage(rng));
      return { ...post(`${name}(${params.length} random)`, methodCall(name, params, rng), params.every((p) => p.valid) ? 'ok' : 'no-server-fault'), auth: { method: name, as: 'signed' } };
    }],
    [8, () => {
      // a well-typed call that is not (validly) signed: refused before any handler, heartbeat() excepted
      const name = rng.pick(Object.keys(RPC_METHODS).filter((m) => m !== 'heartbeat'));
      const params = RPC_METHODS[name].filter((k) => !k.endsWith('?')).map((k) => typedParam(rng, k, pools));
      const as = rng.pick(['unsigned', 'wrong-secret', 'stale', 'replayed', 'stranger'] as const);
      const call = post(`${name} ${as}`, methodCall(name, params, rng), params.every((p) => p.valid) ? 'fault:-32401' : 'no-server-fault');
      return as === 'unsigned' ? call : { ...call, auth: { method: name, as } };
    }],
    [5, () => {
      const name = rng.pick(['system.listMethods', 'system.multicall', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'HEARTBEAT', 'heartbeat ', 'nope', 'a'.repeat(129), 'a'.repeat(5000), 'rooms.join', '../heartbeat', 'x y', '😀']);
      const call = methodCall(name, [xmlString(rng, 'x')], rng);
      // the name is trimmed, so 'heartbeat ' is heartbeat called with one string (its optional caller_node:
      // answered); a name that is no valid method name cannot be signed (the signature names the method),
      // so it is refused as unsigned
      const signable = /^[A-Za-z0-9_.:/-]{1,128}$/.test(name.trim());
      const expected = !signable ? 'fault:-32401' : name === 'heartbeat ' ? 'ok' : 'fault:-32601';
      return { ...post(`unknown method ${name.slice(0, 20)}`, call, expected), ...(signable ? { auth: { method: name.trim(), as: 'signed' as const } } : {}) };
    }],
    [12, () => {
      const call = methodCall(rng.pick(Object.keys(RPC_METHODS)), Array.from({ length: rng.int(0, 3) }, () => xmlGarbage(rng)), rng);
      const cut = rng.int(0, Math.max(0, call.lastIndexOf('</methodCall>') - 1));
      return post('truncated XML', call.slice(0, cut), 'fault:-32700');
    }],
    [10, () =>
      post(
        'malformed XML',
        rng.pick([
          '<methodCall><methodName>heartbeat</methodName></methodCall><extra/>',
          '<methodCall><methodName>heartbeat</methodName><params></param></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodname></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><string>a & b</string></value></param></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><string>&bogus;</string></value></param></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><string>&#xD800;</string></value></param></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><string>&#1114112;</string></value></param></params></methodCall>',
          '<methodCall><methodName>heartbeat<![CDATA[ unterminated',
          '<methodCall <methodName>heartbeat</methodName></methodCall>',
          'just text',
          '<<<>>>',
          '<methodCall><!-- unterminated comment <methodName>heartbeat</methodName></methodCall>',
          '<?xml version="1.0"?>',
          '\u0000\u0001\u0002',
          '{"method":"heartbeat"}',
          // well-formed for saxes, but we refuse any DOCTYPE; raw and referenced characters XML 1.0 forbids
          '<!DOCTYPE methodCall><methodCall><methodName>heartbeat</methodName></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><string>bell \u0007</string></value></param></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><string>&#0;</string></value></param></params></methodCall>',
        ]),
        'fault:-32700',
      ),
    ],
    [4, () =>
      post(
        'not a methodCall',
        rng.pick([
          '<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>',
          '<methodCall></methodCall>',
          '<methodCall><methodName>  </methodName></methodCall>',
          '<methodCall><params/></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><value><int>1</int></value></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param/></params></methodCall>',
          '<html><body>hi</body></html>',
          // what the xmlrpc package's deserializer reads as something: 12, "9007199254740993", two params, a shifted struct
          '<methodCall><methodName>heartbeat</methodName><params><param><value><int>12abc</int></value></param></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><i8>9007199254740993</i8></value></param></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><int>1</int><int>2</int></value></param></params></methodCall>',
          '<methodCall><methodName>heartbeat</methodName><params><param><value><struct><member><value>1</value></member></struct></value></param></params></methodCall>',
        ]),
        'fault:-32600',
      ),
    ],
    [3, () => ({ ...post('entities in a string', methodCall('get_messages', [v('<string>&amp;lt;room&amp;gt; &amp;amp;lt; &#x1F600; &#65;</string>'), v('<int>0</int>'), v('<nil/>'), v('<int>10</int>')], rng), 'ok'), auth: { method: 'get_messages', as: 'signed' } })],
    [1, () => post('billion laughs', BILLION_LAUGHS, 'fault:-32700')],
    [1, () => post('external entity', XXE, 'fault:-32700')],
    [2, () => post('empty body', '', 'fault:-32700')],
    [2, () => post('random bytes', Buffer.from(Array.from({ length: rng.int(1, 3000) }, () => rng.int(0, 255))), 'no-server-fault')],
    [2, () => ({ ...post('gzip garbage', Buffer.from('not gzip at all'), 'fault:-32700'), headers: { ...headers, 'Content-Encoding': 'gzip' } })],
    [1, () => ({ ...post('unsupported encoding', methodCall('heartbeat', [], rng), 'fault:-32600'), headers: { ...headers, 'Content-Encoding': rng.pick(['br', 'deflate', 'x-evil']) } })],
    [4, () => {
      const method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      const body = method === 'GET' ? undefined : methodCall('heartbeat', [], rng);
      return { label: `HTTP ${method}`, method, path, body, headers, expect: 'fault:-32600' };
    }],
  ])();
}

interface RpcOutcome {
  status: number;
  result?: unknown;
  fault?: { code: number; message: string };
  invalid?: string;
}

/** Signature headers for a case: signed as `peer` (the other node) over the exact body sent, or wrongly as the case asks. */
function authHeaders(node: NodeProcess, secret: string, peer: string, c: RpcCase): Record<string, string> {
  if (!c.auth || c.body === undefined) return {};
  const as = c.auth.as === 'stranger' ? 'node9' : peer;
  const key = c.auth.as === 'wrong-secret' ? `${secret}-but-not-quite` : secret;
  const now = c.auth.as === 'stale' ? () => Date.now() - 120_000 : Date.now;
  const body = typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : c.body;
  return new PeerCallSigner(key, as, node.spec.nodeId, now, BOOTS.get(node.spec.nodeId)).headers(c.auth.method, body);
}

/** Each node's boot id (from its heartbeat): signed calls name the run of the node they are for. */
const BOOTS = new Map<string, string>();

async function rpc(node: NodeProcess, c: RpcCase, secret = '', peer = ''): Promise<RpcOutcome> {
  const send = (headers: Record<string, string>) =>
    fetch(node.rpcUrl + c.path, { method: c.method, headers: { ...c.headers, ...headers }, body: c.body, signal: AbortSignal.timeout(REPLY_TIMEOUT_MS) });
  const signature = authHeaders(node, secret, peer, c);
  if (c.auth?.as === 'replayed') await (await send(signature)).text();
  const res = await send(signature);
  const text = await res.text();
  if (!/^<\?xml[^>]*\?>\s*<methodResponse>/.test(text)) return { status: res.status, invalid: `not a methodResponse: ${text.slice(0, 200)}` };
  try {
    return { status: res.status, result: decodeMethodResponse(text) };
  } catch (e) {
    if (e instanceof XmlRpcFault) return { status: res.status, fault: { code: e.code, message: e.faultString } };
    return { status: res.status, invalid: `unparsable methodResponse (${(e as Error).message}): ${text.slice(0, 200)}` };
  }
}

function rpcProblem(c: RpcCase, out: RpcOutcome): string | null {
  const wrongMethod = c.method !== 'POST';
  const wrongPath = !['/', '/RPC2', '/?x=1'].includes(c.path);
  const status = wrongMethod ? 405 : wrongPath ? 404 : 200;
  if (out.invalid) return out.invalid;
  if (out.status !== status) return `HTTP ${out.status}, expected ${status}`;
  // nodes with a secret read no more of an unsigned call than an open method needs, whatever it holds
  const bodyBytes = c.body === undefined ? 0 : Buffer.byteLength(c.body);
  if (!c.auth && bodyBytes > OPEN_CALL_MAX_BYTES && out.fault?.code === FAULT.request && /larger than/.test(out.fault.message)) return null;
  if (out.fault && !CLIENT_FAULTS.has(out.fault.code)) return `fault ${out.fault.code} (${out.fault.message.slice(0, 300)})`;
  if (out.fault && (typeof out.fault.message !== 'string' || !out.fault.message)) return 'fault without a faultString';
  // a well-formed signed call may still be refused: a bad param, a sender param naming another node, or a room the signer does not host
  const callersMistake = out.fault && (out.fault.code === FAULT.params || out.fault.code === FAULT.refused || (out.fault.code === FAULT.auth && /names node [\s\S]* but is signed by/.test(out.fault.message)));
  if (c.expect === 'ok' && out.fault && !callersMistake) return `fault ${out.fault.code} for a well-formed call (${out.fault.message.slice(0, 200)})`;
  if (c.expect.startsWith('fault:') && out.fault?.code !== Number(c.expect.slice(6))) {
    return `expected ${c.expect}, got ${out.fault ? `fault ${out.fault.code} (${out.fault.message.slice(0, 200)})` : 'a result'}`;
  }
  return null;
}

// --- the test ------------------------------------------------------------------------------------

const CRASH_SIGNS = [/unhandled/i, /uncaught/i, /^\s+at .+:\d+:\d+\)?\s*$/m, /FATAL ERROR/, /heap out of memory/i];

describe(`robustness: fuzzing real nodes (seed ${SEED})`, () => {
  let cluster: TestCluster;
  const clients = new ClientPool();
  let keeperRoom = '';
  let victimRoom = '';
  /** Each WebSocket fuzzing connection's state; the XML-RPC fuzz may use (and delete) the rooms they created. */
  const contexts: WsContext[] = [];
  /** message_sent acks for the keeper room: message_id -> sequence_number. */
  const acked = new Map<string, number>();
  const stats = { wsFrames: 0, wsErrors: 0, wsAcks: 0, rpcCalls: 0, rpcFaults: 0, rpcResults: 0, faultCodes: {} as Record<number, number> };

  const connect = (node: number) => clients.connect(cluster.node(node).url);

  beforeAll(async () => {
    cluster = await TestCluster.start(2, { LOG_LEVEL: 'INFO' });
    // the keeper room belongs to a user no fuzzing connection can speak for, so fuzzing cannot delete it
    const keeper = await connect(1);
    const created = await keeper.request('create_room', { room_name: 'keeper', creator_id: 'keeper', description: 'acked messages live here' }, 'room_created');
    keeperRoom = created.data.room_id;
    const victim = await keeper.request('create_room', { room_name: 'victim', creator_id: 'keeper', description: null }, 'room_created');
    victimRoom = victim.data.room_id;
    expect(keeperRoom).toMatch(/^[0-9a-f-]{36}$/);
    expect(victimRoom).toMatch(/^[0-9a-f-]{36}$/);
    for (const n of cluster.nodes) BOOTS.set(n.spec.nodeId, await bootOf(n));
    // node2 sees both rooms before fuzzing starts
    const probe = await connect(2);
    await eventually(async () => (await probe.request('discover_rooms', undefined, 'global_rooms_list')).data.rooms.length >= 2, 10_000, 100);
  }, 60_000);

  afterAll(async () => {
    await clients.closeAll();
    console.log(`robustness fuzz, seed ${SEED}: ${JSON.stringify(stats)}`);
    if (cluster && process.env.FUZZ_KEEP_OUTPUT) for (const n of cluster.nodes) console.log(`--- ${n.spec.nodeId}\n${n.output.slice(-20_000)}`);
    await cluster?.stop();
  });

  it(`answers ${WS_CONNECTIONS.length * (WS_FRAMES_PER_CONNECTION + WS_BURST)} fuzzed WebSocket frames on ${WS_CONNECTIONS.length} connections, each with its reply type (seed ${SEED})`, async () => {
    const problems: string[] = [];
    const record = (where: string, reply: Frame, sent: string, ctx: WsContext) => {
      const problem = replyProblem(reply);
      if (problem) problems.push(`${where}: ${reply.type}: ${problem}; sent ${sent.slice(0, 300)}`);
      const { type, data } = reply;
      if (ERROR_REPLIES.has(type) || (type === 'room_created' && data.success === false)) stats.wsErrors++;
      if (type === 'message_sent' && data.room_id === keeperRoom) {
        if (!Number.isInteger(data.sequence_number) || data.sequence_number < 1) problems.push(`${where}: message_sent with sequence ${data.sequence_number}`);
        const before = acked.get(data.message_id);
        if (before !== undefined && before !== data.sequence_number) problems.push(`${where}: message ${data.message_id} acked as ${before} and ${data.sequence_number}`);
        acked.set(data.message_id, data.sequence_number);
        stats.wsAcks++;
      }
      if (type === 'room_created' && typeof data.room_id === 'string') ctx.otherRooms.push(data.room_id);
    };
    await Promise.all(
      WS_CONNECTIONS.map(async (node, k) => {
        const rng = new SeededRandom((SEED + k * 0x9e3779b9) >>> 0);
        const username = `fuzzer-${k}`;
        const client = await connect(node);
        const bound = await client.request('join_room', { room_id: keeperRoom, username }, 'join_room_success', 'join_room_error');
        expect(bound.type).toBe('join_room_success');
        const ctx: WsContext = { username, keeperRoom, otherRooms: [], index: 0 };
        contexts[k] = ctx;

        // one frame at a time: each must get a reply of its own request's types
        for (let i = 0; i < WS_FRAMES_PER_CONNECTION; i++) {
          ctx.index = i;
          const frame = fuzzFrame(rng, ctx);
          const where = `seed ${SEED} connection ${k} (node${node}) frame ${i} [${frame.label}]`;
          client.sendRaw(frame.payload, frame.binary);
          stats.wsFrames++;
          let answer: { reply: Frame; strays: Frame[] };
          try {
            answer = await replyTo(client, frame.expect);
          } catch (e) {
            problems.push(`${where}: no ${frame.expect.join('/')} (${(e as Error).message}); sent ${String(frame.payload).slice(0, 300)}`);
            return; // the connection is closed or stuck: nothing more to learn from it
          }
          for (const stray of answer.strays) problems.push(`${where}: unexpected ${stray.type} ${JSON.stringify(stray.data).slice(0, 200)}`);
          record(where, answer.reply, String(frame.payload), ctx);
        }

        // then a burst without waiting: every frame still gets exactly one reply
        const burst = Array.from({ length: WS_BURST }, (_, i) => ((ctx.index = WS_FRAMES_PER_CONNECTION + i), fuzzFrame(rng, ctx)));
        for (const frame of burst) client.sendRaw(frame.payload, frame.binary);
        stats.wsFrames += burst.length;
        const where = `seed ${SEED} connection ${k} (node${node}) burst`;
        const replies: Frame[] = [];
        try {
          while (replies.length < burst.length) {
            const frame = await client.next(REPLY_TIMEOUT_MS);
            if (ANY_REPLY.has(frame.type)) replies.push(frame);
            else if (!EVENTS.has(frame.type)) problems.push(`${where}: unexpected ${frame.type}`);
          }
        } catch (e) {
          problems.push(`${where}: ${replies.length} of ${burst.length} replies (${(e as Error).message})`);
          return;
        }
        // a send is answered once a majority stored it (on the host too), possibly after the replies
        // to later requests: the burst is checked as a whole, one reply per frame
        for (const reply of replies) record(where, reply, 'one of the burst frames', ctx);
        const extra = (await client.drain(200)).filter((f) => ANY_REPLY.has(f.type));
        if (extra.length > 0) problems.push(`${where}: ${extra.length} replies more than requests: ${extra.map((f) => f.type).join(', ')}`);
        expect(client.closeCode).toBeNull();
      }),
    );
    expect(problems.slice(0, 30)).toEqual([]);
    // the fuzz must actually reach the deep paths, not just bounce off validation
    expect(stats.wsAcks).toBeGreaterThan(50);
    expect(stats.wsErrors).toBeGreaterThan(stats.wsFrames / 4);
  }, 120_000);

  it(`answers ${2 * RPC_CALLS_PER_NODE} fuzzed XML-RPC requests with a methodResponse, faults only for the caller's mistakes (seed ${SEED})`, async () => {
    const pools: RpcPools = {
      // never the keeper room: a (trusted) peer may legitimately delete a replica by commit_delete_room
      rooms: [victimRoom, ...contexts.flatMap((c) => c.otherRooms.slice(0, 1)), 'no-such-room', '', '00000000-0000-4000-8000-000000000000'],
      users: ['keeper', 'fuzzer-0', 'rpc-user', '', 'u'.repeat(65)],
      nodes: ['node1', 'node2', 'node9', ''],
    };
    const problems: string[] = [];
    const secret = cluster.peerSecret as string;
    expect(secret).toBeTruthy();
    for (const [n, node] of [cluster.node(1), cluster.node(2)].entries()) {
      const rng = new SeededRandom((SEED ^ (0x5a5a0000 + n)) >>> 0);
      const cases = Array.from({ length: RPC_CALLS_PER_NODE }, () => rpcCase(rng, pools));
      // a few callers in parallel, each in order
      const lanes = 4;
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let i = lane; i < cases.length; i += lanes) {
            const c = cases[i];
            const where = `seed ${SEED} node${n + 1} call ${i} [${c.label}]`;
            const started = Date.now();
            let out: RpcOutcome;
            try {
              out = await rpc(node, c, secret, n === 0 ? 'node2' : 'node1');
            } catch (e) {
              problems.push(`${where}: no HTTP answer (${(e as Error).message}); body ${String(c.body ?? '').slice(0, 300)}`);
              continue;
            }
            stats.rpcCalls++;
            if (out.fault) {
              stats.rpcFaults++;
              stats.faultCodes[out.fault.code] = (stats.faultCodes[out.fault.code] ?? 0) + 1;
            }
            else if (!out.invalid) stats.rpcResults++;
            const problem = rpcProblem(c, out);
            if (problem) problems.push(`${where}: ${problem}; body ${String(c.body ?? '').slice(0, 300)}`);
            if (c.label === 'billion laughs') {
              expect(Date.now() - started).toBeLessThan(5_000);
              expect(out.fault?.message ?? '').not.toMatch(/lollol/);
            }
          }
        }),
      );
    }
    expect(problems.slice(0, 30)).toEqual([]);

    // bodies too big to read are refused without being buffered: over the limit, and a gzip bomb
    const oversized = `<?xml version="1.0"?><methodCall><methodName>heartbeat</methodName><params><param><value><string>${'x'.repeat(1_200_000)}</string></value></param></params></methodCall>`;
    const bomb = gzipSync(Buffer.alloc(48 * 1024 * 1024)); // ~48 KB that inflate to 48 MiB
    for (const node of cluster.nodes) {
      const big = await rpc(node, { label: 'over 1 MiB', method: 'POST', path: '/RPC2', body: oversized, headers: { 'Content-Type': 'text/xml' }, expect: 'fault:-32600' });
      expect({ status: big.status, code: big.fault?.code }).toEqual({ status: 200, code: FAULT.request });
      const inflated = await rpc(node, { label: 'gzip bomb', method: 'POST', path: '/', body: bomb, headers: { 'Content-Type': 'text/xml', 'Content-Encoding': 'gzip' }, expect: 'fault:-32600' });
      expect({ status: inflated.status, code: inflated.fault?.code }).toEqual({ status: 200, code: FAULT.request });
      stats.rpcCalls += 2;
    }
    expect(stats.rpcResults).toBeGreaterThan(RPC_CALLS_PER_NODE / 10);
    expect(stats.rpcFaults).toBeGreaterThan(RPC_CALLS_PER_NODE / 4);
    // the unsigned, wrongly signed, stale, replayed and strangers' calls were really sent and refused
    expect(stats.faultCodes[FAULT.auth] ?? 0).toBeGreaterThan(RPC_CALLS_PER_NODE / 20);
  }, 120_000);

  it(`keeps both nodes running and healthy with no crash in their output (seed ${SEED})`, async () => {
    for (const node of cluster.nodes) {
      expect({ node: node.spec.nodeId, running: node.running }).toEqual({ node: node.spec.nodeId, running: true });
      expect(await httpStatus(`${node.httpUrl}/health`)).toBe(200);
      const signs = CRASH_SIGNS.flatMap((re) => {
        const m = re.exec(node.output);
        return m ? [`${node.spec.nodeId}: ${re} matched near: ${node.output.slice(Math.max(0, m.index - 400), m.index + 400)}`] : [];
      });
      expect(signs).toEqual([]);
    }
  });

  it('still carries a normal conversation end to end, across both nodes', async () => {
    const a = await connect(1);
    const b = await connect(1);
    const room = (await a.request('create_room', { room_name: 'after the storm', creator_id: 'alice', description: null }, 'room_created')).data.room_id as string;
    expect((await a.request('join_room', { room_id: room, username: 'alice' }, 'join_room_success', 'join_room_error')).type).toBe('join_room_success');
    expect((await b.request('join_room', { room_id: room, username: 'bob' }, 'join_room_success', 'join_room_error')).type).toBe('join_room_success');
    const sent: number[] = [];
    // markup, two "]]>" and "\r" must reach node2's replica unchanged (the codec never writes CDATA)
    const contents = ['calm 1', CDATA_BREAKER, 'calm 3', '<b>\r\n</b> & \r', 'calm 5'];
    for (const content of contents) sent.push((await a.request('send_message', { room_id: room, username: 'alice', content }, 'message_sent', 'message_error')).data.sequence_number);
    expect(sent).toEqual([1, 2, 3, 4, 5]);
    const received = (c: TestClient) => c.frames.filter((f) => f.type === 'new_message' && f.data.room_id === room).map((f) => [f.data.sequence_number, f.data.content]);
    const expected = contents.map((content, i) => [i + 1, content]);
    await eventually(() => received(b).length >= 5, 10_000);
    expect(received(a)).toEqual(expected);
    expect(received(b)).toEqual(expected);

    const c = await connect(2);
    const joined = await c.request('join_room', { room_id: room, username: 'carol' }, 'join_room_success', 'join_room_error');
    expect(joined.data).toMatchObject({ room_id: room, admin_node: 'node1', last_sequence: 5 });
    await eventually(() => received(c).length >= 5, 10_000);
    expect(received(c)).toEqual(expected);
    const history = await c.request('get_history', { room_id: room, after_sequence: 0 }, 'history', 'history_error');
    expect(history.data.messages.map((m: { sequence_number: number; content: string }) => [m.sequence_number, m.content])).toEqual(expected);
    c.send('send_message', { room_id: room, username: 'carol', content: 'from node2' });
    expect((await c.nextOf('message_sent', 10_000)).data.sequence_number).toBe(6);
    expect((await a.nextOf('new_message', 10_000)).data).toMatchObject({ sequence_number: 6, username: 'carol', content: 'from node2' });
  }, 60_000);

  it(`keeps every message acknowledged during the fuzz, on the host and on the replica (seed ${SEED})`, async () => {
    expect(acked.size).toBeGreaterThan(50);
    const auditor = await connect(1);
    await auditor.request('join_room', { room_id: keeperRoom, username: 'auditor' }, 'join_room_success');
    const stored = new Map<number, string>();
    for (let after = 0; ; ) {
      const page = await auditor.request('get_history', { room_id: keeperRoom, after_sequence: after, limit: 200 }, 'history', 'history_error');
      expect(page.type).toBe('history');
      for (const m of page.data.messages as { sequence_number: number; message_id: string }[]) stored.set(m.sequence_number, m.message_id);
      if (!page.data.has_more || page.data.messages.length === 0) break;
      after = page.data.messages.at(-1).sequence_number;
    }
    const last = Math.max(...stored.keys());
    expect([...stored.keys()]).toEqual(Array.from({ length: last }, (_, i) => i + 1)); // contiguous, nothing lost
    const missing = [...acked].filter(([id, seq]) => stored.get(seq) !== id);
    expect(missing).toEqual([]);

    // node2's replica holds the same messages: a resume from 0 replays them from its own store
    const reader = await connect(2);
    const joined = await reader.request('join_room', { room_id: keeperRoom, username: 'reader', since_sequence: 0 }, 'join_room_success', 'join_room_error');
    expect(joined.data.last_sequence).toBe(last);
    const replayed = () => reader.frames.filter((f) => f.type === 'new_message' && f.data.room_id === keeperRoom);
    await eventually(() => replayed().length >= last, 15_000);
    expect(replayed().map((f) => [f.data.sequence_number, f.data.message_id])).toEqual([...stored].sort((x, y) => x[0] - y[0]));
  }, 60_000);
});
