import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import { checkParams } from './rpc-params';

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
