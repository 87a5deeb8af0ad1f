import { encodeMethodCall, encodeMethodResponse, PEER_BATCH_BYTES, XMLRPC_MAX_BODY_BYTES, xmlTextBytes } from '../../common/xmlrpc';
import type { MessageWire } from '../../common/protocol/peer-wire';
import { messageWireBytes, withinBudget } from './reply-budget';

const MAX_CONTENT = 5000;
/** The largest message the client protocol accepts, made of the characters that grow most when encoded. */
const worstMessage = (n: number, fill: string): MessageWire => ({
  message_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  room_id: '00000000-0000-4000-8000-000000000000',
  username: fill.repeat(50),
  content: fill.repeat(MAX_CONTENT),
  sequence_number: 2 ** 40 + n,
  timestamp: '2026-12-01T00:00:00.000Z',
  client_message_id: fill.repeat(100),
});

/** One room_log_json item (`[room_id, append]`, as rooms/replication/room-log-wire.ts types it): an append carrying that message as its room's entry. */
const appendOf = (m: MessageWire) => [
  m.room_id,
  {
    type: 'append',
    from: 'node1',
    to: 'node2',
    epoch: 2 ** 40,
    prev: { epoch: 2 ** 40, index: m.sequence_number - 1 },
    entries: [{ index: m.sequence_number, epoch: 2 ** 40, kind: 'message', sequence: m.sequence_number, clientKey: `${m.username}\u0000${m.client_message_id}`, data: m }],
    commit: m.sequence_number - 1,
  },
];

describe('peer call and reply budgets', () => {
  it.each(['&', '<', '"', '\\', '\r', '\u{1F600}', 'é'])('a single maximal message of %j travels in one call, far under the body limit', (fill) => {
    const json = JSON.stringify([appendOf(worstMessage(1, fill))]);
    const body = Buffer.byteLength(encodeMethodCall('room_log_json', ['node1', json]));
    expect(body).toBeLessThan(XMLRPC_MAX_BODY_BYTES / 10);
    // the outbox's estimate is never below what the codec writes for the JSON string
    expect(xmlTextBytes(json)).toBeGreaterThanOrEqual(Buffer.byteLength(encodeMethodCall('x', [json])) - Buffer.byteLength(encodeMethodCall('x', [''])));
  });

  it('a batch filled up to its byte budget stays under the peer body limit', () => {
    const one = JSON.stringify(appendOf(worstMessage(1, '&')));
    const n = Math.floor(PEER_BATCH_BYTES / (xmlTextBytes(one) + 1));
    const body = Buffer.byteLength(encodeMethodCall('room_log_json', ['node1', `[${Array(n).fill(one).join(',')}]`]));
    expect(body).toBeLessThan(XMLRPC_MAX_BODY_BYTES);
  });

  it("keeps a reply page of messages under the budget, from the start or, for pages before a point, from the end, and never empty", () => {
    const messages = Array.from({ length: 100 }, (_, i) => worstMessage(i, '&'));
    const forward = withinBudget(messages, messageWireBytes);
    const backward = withinBudget(messages, messageWireBytes, { fromEnd: true });

    expect(forward.length).toBeGreaterThan(1);
    expect(forward.length).toBeLessThan(100);
    expect(forward[0]).toBe(messages[0]);
    expect(backward.at(-1)).toBe(messages[99]);
    expect(Buffer.byteLength(encodeMethodResponse({ success: true, messages: forward }))).toBeLessThan(XMLRPC_MAX_BODY_BYTES);
    expect(withinBudget(messages, messageWireBytes, { budget: 1 })).toEqual([messages[0]]);
    expect(withinBudget([], messageWireBytes)).toEqual([]);
  });
});
