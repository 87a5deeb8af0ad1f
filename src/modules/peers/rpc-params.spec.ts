import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import { checkParams, messageWireProblem, parseJsonArray, peerParams } from './rpc-params';

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
      ['int', 2 ** 53 + 1], // arrives as 2^53: it would round, so no counter of ours can be that large
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

// A reference host's receive_message_broadcast carries a ChatMessage: malformed ones used to reach
// a property of undefined, answered as -32500 handler failures (found by test/robustness.e2e-spec.ts).
describe(messageWireProblem.name, () => {
  const message = { message_id: 'm1', room_id: 'r', username: 'u', content: 'hi', sequence_number: 1, timestamp: '2026-01-01T00:00:00.000Z', client_message_id: null };

  it('accepts what our nodes send, and the reference\'s ChatMessage without client_message_id', () => {
    expect(messageWireProblem(message)).toBeNull();
    expect(messageWireProblem({ ...message, client_message_id: 'c-1' })).toBeNull();
    const { client_message_id: _omitted, ...reference } = message;
    expect(messageWireProblem(reference)).toBeNull();
  });

  it.each([
    ['not a struct', 'x', 'message must be a struct'],
    ['a room id that is a struct', { ...message, room_id: { a: 1 } }, 'message.room_id must be a string'],
    ['no content', { ...message, content: undefined }, 'message.content must be a string'],
    ['sequence 0', { ...message, sequence_number: 0 }, 'message.sequence_number must be an integer >= 1'],
    ['an unsafe sequence', { ...message, sequence_number: 2 ** 53 + 1 }, 'message.sequence_number must be an integer >= 1'],
    ['a client_message_id that is a struct', { ...message, client_message_id: {} }, 'message.client_message_id must be a string or nil'],
  ])('names what is wrong with %s', (_case, m, problem) => {
    expect(messageWireProblem(m)).toBe(problem);
  });
});

describe(peerParams.name, () => {
  it('checks a method against its row of PEER_PARAM_KINDS: room_log_json takes the sender, one JSON string and optionally the sender\'s disk', () => {
    expect(peerParams('room_log_json', ['node2', '[]'])).toEqual(['node2', '[]']);
    expect(faultOf(() => peerParams('room_log_json', ['node2', []])).faultString).toBe('room_log_json: parameter 2 must be string');
    expect(faultOf(() => peerParams('room_log_json', ['node2'])).faultString).toBe('room_log_json takes 2-3 parameter(s), got 1');
    expect(peerParams('room_log_json', ['node2', '[]', 'disk-a'])).toEqual(['node2', '[]', 'disk-a']);
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
