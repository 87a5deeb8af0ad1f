import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { PeerCallSigner, XmlRpcFault } from '../../common/xmlrpc';
import { FakeClock } from '../../testing/fakes';
import { PeerAuthenticator } from './peer-authenticator';

const SECRET = 'the-cluster-secret-0123456789';
const BODY = Buffer.from('<methodCall/>');
const config = (env: Record<string, string> = {}) => loadConfig({ NODE_ID: 'node1', PEER_NODES: 'node2:http://n2:9090,node3:http://n3:9090', ...env });
const signed = (sender: string, method: string, clock: Clock) =>
  Object.fromEntries(Object.entries(new PeerCallSigner(SECRET, sender, 'node1', () => clock.now()).headers(method, BODY)).map(([k, v]) => [k.toLowerCase(), v]));
const faultOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof XmlRpcFault) return { code: e.code, message: e.faultString };
    throw e;
  }
  return null;
};

describe(PeerAuthenticator.name, () => {
  const clock = new FakeClock();

  describe('with PEER_SECRET', () => {
    const sut = new PeerAuthenticator(config({ PEER_SECRET: SECRET }), clock);

    it('leaves heartbeat() open and refuses every other unsigned call with -32401', () => {
      expect(sut.authenticate('heartbeat', [], BODY, {})).toBeNull();
      expect(faultOf(() => sut.authenticate('get_room_states', [], BODY, {}))).toEqual({ code: -32401, message: expect.stringMatching(/^peer authentication required: the call is not signed\. .*PEER_SECRET/) });
      expect(faultOf(() => sut.authenticate('no_such_method', [], BODY, {}))?.code).toBe(-32401);
    });

    it('hands the signer to the handler, and refuses a call whose sender param names another node', () => {
      expect(sut.authenticate('room_log_json', ['node2', '[]'], BODY, signed('node2', 'room_log_json', clock))).toBe('node2');
      expect(faultOf(() => sut.authenticate('room_log_json', ['node3', '[]'], BODY, signed('node2', 'room_log_json', clock)))).toEqual({
        code: -32401,
        message: expect.stringMatching(/names node "node3" but is signed by node2/),
      });
      expect(faultOf(() => sut.authenticate('join_room', ['r', 'alice', 'node3'], BODY, signed('node2', 'join_room', clock)))?.code).toBe(-32401);
      expect(sut.authenticate('commit_delete_room', ['r', 't'], BODY, signed('node3', 'commit_delete_room', clock))).toBe('node3');
    });
  });

  describe('without PEER_SECRET', () => {
    const sut = new PeerAuthenticator(config(), clock);

    it('lets unsigned calls through but refuses sender ids that are not configured peers (-32602)', () => {
      expect(sut.signed).toBe(false);
      expect(sut.authenticate('get_room_states', [], BODY, {})).toBeNull();
      expect(sut.authenticate('room_log_json', ['node2', '[]'], BODY, {})).toBeNull();
      expect(faultOf(() => sut.authenticate('room_log_json', ['node9', '[]'], BODY, {}))).toEqual({ code: -32602, message: expect.stringMatching(/node "node9" is not in this node's PEER_NODES/) });
      expect(faultOf(() => sut.authenticate('forward_messages', ['node1', []], BODY, {}))?.code).toBe(-32602);
    });
  });
});
