import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import { checkParams, checkReplicationEvents, messageWireProblem, parseJsonArray } from './rpc-params';

/** The fault `fn` throws; fails the test when it throws anything else or nothing. */
function faultOf(fn: () => unknown): XmlRpcFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof XmlRpcFault) return e;
    throw e;
  }
  throw new Error('expected an XmlRpcFault, but nothing was thrown');
}

describe(checkParams.name, () => {
  const JOIN = ['string', 'string', 'string'] as const;
  const NOTIFY = ['string', 'string', 'string', 'string?'] as const;

  it('returns the params when arity and types match', () => {
    expect(checkParams('join_room', ['room-1', 'alice', 'node2'], [...JOIN])).toEqual(['room-1', 'alice', 'node2']);
    expect(checkParams('heartbeat', [], [])).toEqual([]);
  });

  describe('arity', () => {
    it.each([
      ['too few', ['room-1', 'alice'], 'join_room takes 3 parameter(s), got 2'],
      ['too many', ['room-1', 'alice', 'node2', 'extra'], 'join_room takes 3 parameter(s), got 4'],
      ['not a list', undefined, 'join_room takes 3 parameter(s), got 0'],
      ['a struct instead of a list', { room_id: 'room-1' }, 'join_room takes 3 parameter(s), got 0'],
    ])('%s is an invalid-params fault (-32602) that says what was expected', (_case, params, message) => {
      const fault = faultOf(() => checkParams('join_room', params, [...JOIN]));
      expect(fault.code).toBe(XmlRpcFaultCode.InvalidParams);
      expect(fault.code).toBe(-32602);
      expect(fault.faultString).toBe(message);
    });

    it('a method without params refuses any', () => {
      expect(faultOf(() => checkParams('heartbeat', ['x'], [])).faultString).toBe('heartbeat takes 0 parameter(s), got 1');
    });
  });

  describe('types', () => {
    it.each([
      ['string', 42],
      ['string', null],
      ['int', 1.5],
      ['int', '1'],
      ['struct', ['a']],
      ['struct', null],
      ['array', { a: 1 }],
    ] as const)('a parameter of kind %s refuses %p with -32602 naming its position', (kind, value) => {
      const fault = faultOf(() => checkParams('m', ['ok', value], ['string', kind]));
      expect(fault.code).toBe(-32602);
      expect(fault.faultString).toBe(`m: parameter 2 must be ${kind}`);
    });

    it.each([
      ['string', 'text'],
      ['int', -3],
      ['struct', { a: 1 }],
      ['array', []],
      ['any', null],
      ['any', 7],
    ] as const)('a parameter of kind %s accepts %p', (kind, value) => {
      expect(checkParams('m', [value], [kind])).toEqual([value]);
    });
  });

  describe('optional params', () => {
    it('a trailing optional param may be left out, given, or nil', () => {
      expect(checkParams('notify_member_disconnect', ['r', 'u', 'n'], [...NOTIFY])).toEqual(['r', 'u', 'n']);
      expect(checkParams('notify_member_disconnect', ['r', 'u', 'n', 'Inactivity'], [...NOTIFY])).toEqual(['r', 'u', 'n', 'Inactivity']);
      expect(checkParams('notify_member_disconnect', ['r', 'u', 'n', null], [...NOTIFY])).toEqual(['r', 'u', 'n', null]);
    });

    it('a given optional param must still have its type', () => {
      const fault = faultOf(() => checkParams('notify_member_disconnect', ['r', 'u', 'n', 5], [...NOTIFY]));
      expect(fault.faultString).toBe('notify_member_disconnect: parameter 4 must be string or nil');
    });

    it('the arity fault names the range', () => {
      expect(faultOf(() => checkParams('notify_member_disconnect', ['r', 'u'], [...NOTIFY])).faultString).toBe(
        'notify_member_disconnect takes 3-4 parameter(s), got 2',
      );
    });

    // get_messages(room_id, after_sequence, before_sequence?, limit): before may be nil, but its
    // position cannot be skipped; a 3-param call would be read as before=50 with no limit.
    it('an optional param before a required one cannot be left out', () => {
      const GET_MESSAGES = ['string', 'int', 'int?', 'int'] as const;
      expect(checkParams('get_messages', ['r', 0, null, 50], [...GET_MESSAGES])).toEqual(['r', 0, null, 50]);

      const fault = faultOf(() => checkParams('get_messages', ['r', 0, 50], [...GET_MESSAGES]));
      expect(fault.code).toBe(-32602);
    });
  });
});

// Malformed events used to reach SQLite ("cannot be bound to SQLite parameter") or a property of
// undefined, answered as -32500 handler failures (found by test/robustness.e2e-spec.ts).
describe('replication payload shapes', () => {
  const message = { message_id: 'm1', room_id: 'r', username: 'u', content: 'hi', sequence_number: 1, timestamp: '2026-01-01T00:00:00.000Z', client_message_id: null };
  const room = {
    room_id: 'r', room_name: 'n', description: null, creator_id: 'c', host_node: 'node1', host_epoch: 1,
    state: 'ACTIVE', created_at: '2026-01-01T00:00:00.000Z', last_sequence: 0, deletion_txn: null,
  };
  const member = { kind: 'member', event_type: 'member_joined', event: { room_id: 'r', username: 'u', member_count: 1, timestamp: 't' }, node_id: 'node2' };
  const valid = [{ kind: 'room', room }, { kind: 'message', message }, member, { kind: 'deleted', room_id: 'r', room_name: 'n', transaction_id: null }];

  it('accepts what our nodes send, and event kinds from newer nodes', () => {
    expect(() => checkReplicationEvents([...valid, { kind: 'from_the_future', x: [1] }])).not.toThrow();
    expect(() => checkReplicationEvents([{ kind: 'room', room: { ...room, description: 'd', deletion_txn: 't', state: 'DELETION_PENDING' } }])).not.toThrow();
    expect(messageWireProblem({ ...message, client_message_id: 'c-1' })).toBeNull();
    const { client_message_id: _omitted, ...reference } = message; // the reference's ChatMessage has no client_message_id
    expect(messageWireProblem(reference)).toBeNull();
  });

  it.each([
    ['not a struct', 'x', 'every event must be a struct with a kind'],
    ['no kind', { room }, 'every event must be a struct with a kind'],
    ['a room without its struct', { kind: 'room' }, 'room must be a struct'],
    ['a room id that is a struct', { kind: 'room', room: { ...room, room_id: { a: 1 } } }, 'room.room_id must be a string'],
    ['a description that is an array', { kind: 'room', room: { ...room, description: ['d'] } }, 'room.description and room.deletion_txn must be strings or nil'],
    ['an unknown room state', { kind: 'room', room: { ...room, state: 'BOGUS' } }, 'room.state must be one of ACTIVE, DELETION_PENDING, COMMITTING, ROLLING_BACK'],
    ['a message without its struct', { kind: 'message' }, 'message must be a struct'],
    ['a message with sequence 0', { kind: 'message', message: { ...message, sequence_number: 0 } }, 'message.sequence_number must be an integer >= 1'],
    ['a client_message_id that is a struct', { kind: 'message', message: { ...message, client_message_id: {} } }, 'message.client_message_id must be a string or nil'],
    ['a member event without its event', { ...member, event: undefined }, 'member event must be a struct with room_id and username'],
    ['another event type', { ...member, event_type: 'new_message' }, 'member event_type must be member_joined or member_left'],
    ['a member node that is a number', { ...member, node_id: 2 }, 'member node_id must be a string'],
    ['a deletion of a room id that is an array', { kind: 'deleted', room_id: ['r'], room_name: 'n' }, 'deleted event needs room_id and room_name'],
    ['a deletion transaction that is a boolean', { kind: 'deleted', room_id: 'r', room_name: 'n', transaction_id: true }, 'deleted transaction_id must be a string or nil'],
    ['a deletion without its transaction', { kind: 'deleted', room_id: 'r', room_name: 'n' }, 'deleted transaction_id must be a string or nil'],
  ])('refuses %s with -32602 naming the event', (_case, event, problem) => {
    const fault = faultOf(() => checkReplicationEvents([...valid, event]));
    expect(fault.code).toBe(-32602);
    expect(fault.faultString).toBe(`replicate_events: event 5: ${problem}`);
  });
});

describe(parseJsonArray.name, () => {
  it('returns the array, and refuses non-JSON and non-arrays with a -32602 fault naming the parameter', () => {
    expect(parseJsonArray('m', 'items_json', '[1,{"a":2}]')).toEqual([1, { a: 2 }]);
    for (const bad of ['', 'not json', '{}', 'null', '"x"', '[1,2']) {
      expect(() => parseJsonArray('m', 'items_json', bad)).toThrow(expect.objectContaining({ code: XmlRpcFaultCode.InvalidParams, faultString: expect.stringContaining('m: items_json') }));
    }
  });
});
