import { parseWireBatch, WireRefusal, type WireItem } from './room-log-wire';

const entry = (index: number, epoch = 2, over: Record<string, unknown> = {}) => ({ index, epoch, kind: 'message', sequence: index, clientKey: null, data: { content: `m${index}` }, ...over });
const append = (over: Record<string, unknown> = {}) => ({ type: 'append', from: 'node2', to: 'node1', epoch: 2, prev: { epoch: 1, index: 4 }, entries: [entry(5), entry(6)], commit: 4, ...over });
const batch = (...messages: unknown[]) => JSON.stringify(messages.map((m) => ['r1', m]));
/** What parseWireBatch says of `json` sent by node2 to node1: its items, or the refusal's text. */
const parse = (json: string, sender = 'node2'): WireItem[] | string => {
  try {
    return parseWireBatch(json, sender, 'node1');
  } catch (e) {
    if (e instanceof WireRefusal) return e.message;
    throw e;
  }
};

describe(parseWireBatch.name, () => {
  it('takes every message kind the cores send, addressed from the sender to this node', () => {
    const messages = [
      append(),
      append({ entries: [], prev: { epoch: 2, index: 6 }, commit: 6 }),
      { type: 'appendResult', from: 'node2', to: 'node1', epoch: 2, ok: false, match: 0, hint: { epoch: 1, index: 3 }, learner: true, disk: 'd2' },
      { type: 'preVote', from: 'node2', to: 'node1', epoch: 3, last: { epoch: 2, index: 6 } },
      { type: 'vote', from: 'node2', to: 'node1', epoch: 3, last: { epoch: 2, index: 6 } },
      { type: 'preVoteResult', from: 'node2', to: 'node1', epoch: 3, granted: true },
      { type: 'voteResult', from: 'node2', to: 'node1', epoch: 3, granted: false, leader: 'node3' },
      { type: 'roomDeleted', from: 'node2', to: 'node1', epoch: 0, room_name: 'general', transaction_id: 't1' },
    ];
    const items = parse(batch(...messages));
    expect(items).toEqual(messages.map((m) => ['r1', m]));
  });

  it('fills what a message may leave out: an entry\'s client key and payload, an answer\'s hint', () => {
    const items = parse(batch(append({ entries: [{ index: 5, epoch: 2, kind: 'noop', sequence: 4 }] }), { type: 'appendResult', from: 'node2', to: 'node1', epoch: 2, ok: true, match: 5, learner: false, disk: 'd2' })) as WireItem[];
    expect(items[0][1]).toMatchObject({ entries: [{ index: 5, epoch: 2, kind: 'noop', sequence: 4, clientKey: null, data: null }] });
    expect(items[1][1]).not.toHaveProperty('hint');
  });

  it('takes message entries retention stripped (no content, marked trimmed) as they are, next to whole ones', () => {
    const stripped = { message_id: 'm5', username: 'alice', timestamp: '2026-01-01T00:00:00.000Z', client_message_id: 'c5', trimmed: true };
    const sent = append({ entries: [entry(5, 2, { clientKey: 'alice\u0000c5', data: stripped }), entry(6)] });
    const items = parse(batch(sent)) as WireItem[];
    expect(typeof items).not.toBe('string');
    expect(items).toEqual([['r1', sent]]);
  });

  it.each([
    ['an epoch that is not a safe integer (2^53 + 1 would round)', append({ epoch: 2 ** 53 + 1 }), /batch\[0\]\[1\]\.epoch: must be a safe integer >= 0/],
    ['an epoch so high that counting on from it would leave the safe integers', append({ epoch: 2 ** 53 - 1 }), /batch\[0\]\[1\]\.epoch: must be at most 281474976710656/],
    ['a negative commit', append({ commit: -1 }), /\.commit: must be a safe integer >= 0/],
    ['a fractional index in prev', append({ prev: { epoch: 1, index: 4.5 } }), /\.prev\.index: must be a safe integer/],
    ['an entry epoch of 0', append({ entries: [entry(5, 0)] }), /entries\[0\]\.epoch: must be a safe integer >= 1/],
    ['an unsafe entry sequence', append({ entries: [entry(5, 2, { sequence: 2 ** 53 + 1 })] }), /entries\[0\]\.sequence: must be a safe integer/],
    ['entries that do not follow prev', append({ entries: [entry(6)] }), /entries\[0\]: index 6 does not follow 4/],
    ['a gap between entries', append({ entries: [entry(5), entry(7)] }), /entries\[1\]: index 7 does not follow 5/],
    ['entry epochs that go back', append({ prev: { epoch: 2, index: 4 }, entries: [entry(5, 2), entry(6, 1)] }), /entries\[1\]: epoch 1 is out of order/],
    ['an entry epoch older than prev', append({ prev: { epoch: 2, index: 4 }, entries: [entry(5, 1)] }), /entries\[0\]: epoch 1 is out of order/],
    ['an entry from an epoch after the sender\'s', append({ entries: [entry(5, 3)] }), /entries\[0\]: epoch 3 is out of order/],
    ['entries that are not a list', append({ entries: { 0: entry(5) } }), /entries: must be an array/],
    ['an entry without a kind', append({ entries: [entry(5, 2, { kind: '' })] }), /entries\[0\]\.kind: must be a string of 1-32 characters/],
    ['a client key that is a number', append({ entries: [entry(5, 2, { clientKey: 7 })] }), /entries\[0\]\.clientKey: must be a string/],
    ['an answer without ok', { type: 'appendResult', from: 'node2', to: 'node1', epoch: 2, match: 1, learner: false, disk: 'd2' }, /ok and learner must be booleans/],
    ['an answer without its disk', { type: 'appendResult', from: 'node2', to: 'node1', epoch: 2, ok: true, match: 1, learner: false }, /\.disk: must be a string/],
    ['a vote without its last position', { type: 'vote', from: 'node2', to: 'node1', epoch: 3 }, /\.last: must be \{epoch, index\}/],
    ['a vote result without granted', { type: 'voteResult', from: 'node2', to: 'node1', epoch: 3 }, /granted must be a boolean/],
    ['an unknown type', { type: 'snapshot', from: 'node2', to: 'node1', epoch: 3 }, /\.type: unknown message type "snapshot"/],
    ['a message that names another sender', append({ from: 'node3' }), /batch\[0\]\[1\]\.from: is node3, but node2 sent it/],
    ['a message for another node', append({ to: 'node3' }), /batch\[0\]\[1\]\.to: is node3, not this node/],
    ['a message without a sender', append({ from: '' }), /\.from: must be a string/],
  ])('refuses the whole batch for %s', (_case, bad, reason) => {
    const refusal = parse(batch(bad, append({ entries: [], prev: { epoch: 2, index: 6 } }))); // a valid message after it changes nothing
    expect(typeof refusal).toBe('string');
    expect(refusal).toMatch(reason);
  });

  it.each([
    ['not JSON', '[["r1",', /batch: is not JSON/],
    ['not a list', '{"r1": {}}', /batch: must be an array/],
    ['an item that is not a pair', '[["r1"]]', /batch\[0\]: must be \[room_id, message\]/],
    ['an empty room id', JSON.stringify([['', append()]]), /batch\[0\]\[0\]: must be a string of 1-128 characters/],
    ['a message that is not an object', JSON.stringify([['r1', 'append']]), /batch\[0\]\[1\]: must be a message/],
  ])('refuses %s', (_case, json, reason) => {
    expect(parse(json)).toMatch(reason);
  });

  it('takes an empty batch', () => {
    expect(parse('[]')).toEqual([]);
  });
});
