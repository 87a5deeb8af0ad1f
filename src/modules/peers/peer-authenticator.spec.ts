import type { IncomingHttpHeaders } from 'node:http';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { PeerCallSigner, XmlRpcFault, XMLRPC_MAX_BODY_BYTES } from '../../common/xmlrpc';
import { FakeClock } from '../../testing/fakes';
import { OPEN_CALL_MAX_BYTES, PeerAuthenticator } from './peer-authenticator';

const SECRET = 'the-cluster-secret-0123456789';
const BOOT = 'boot-of-node1';
const BODY = Buffer.from('<methodCall/>');
const config = (env: Record<string, string> = {}) => loadConfig({ NODE_ID: 'node1', PEER_NODES: 'node2:http://n2:9090,node3:http://n3:9090', ...env });
const signed = (sender: string, method: string, clock: Clock, boot = BOOT, body = BODY): IncomingHttpHeaders =>
  Object.fromEntries(Object.entries(new PeerCallSigner(SECRET, sender, 'node1', () => clock.now(), boot).headers(method, body)).map(([k, v]) => [k.toLowerCase(), v]));
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
  /** The three steps the XML-RPC server takes, in its order: headers, raw body, parsed call. */
  const authenticate = (sut: PeerAuthenticator, method: string, params: unknown[], headers: IncomingHttpHeaders, body = BODY) => {
    const admission = sut.admit(headers);
    sut.checkBody(admission, body);
    return sut.authorize(admission, method, params);
  };

  describe('with PEER_SECRET', () => {
    const sut = new PeerAuthenticator(config({ PEER_SECRET: SECRET }), clock, BOOT);

    it('leaves heartbeat() open and refuses every other unsigned call with -32401', () => {
      expect(authenticate(sut, 'heartbeat', [], {})).toBeNull();
      expect(faultOf(() => authenticate(sut, 'get_room_states', [], {}))).toEqual({ code: -32401, message: expect.stringMatching(/^peer authentication required: the call is not signed\. .*PEER_SECRET/) });
      expect(faultOf(() => authenticate(sut, 'no_such_method', [], {}))?.code).toBe(-32401);
    });

    it('lets an unsigned call send only what an open method needs; a signed one the full limit', () => {
      expect(sut.admit({}).maxBodyBytes).toBe(OPEN_CALL_MAX_BYTES);
      expect(sut.admit(signed('node2', 'get_room_states', clock))).toMatchObject({ maxBodyBytes: XMLRPC_MAX_BODY_BYTES, proven: true });
    });

    it('refuses a badly signed call from its headers alone, before any body is read', () => {
      expect(faultOf(() => sut.admit({ ...signed('node2', 'get_room_states', clock), 'x-chat-signature': 'f'.repeat(64) }))).toMatchObject({ code: -32401, message: expect.stringMatching(/does not match/) });
      expect(faultOf(() => sut.admit(signed('node9', 'get_room_states', clock)))?.message).toMatch(/not in PEER_NODES/);
      expect(faultOf(() => sut.admit(signed('node2', 'get_room_states', clock, 'an-earlier-boot')))?.message).toMatch(/earlier run of this node/);
    });

    it('answers a heartbeat signed for another run (a peer that has not heard of this restart yet) as an open call', () => {
      expect(sut.admit(signed('node2', 'heartbeat', clock, 'an-earlier-boot'))).toMatchObject({ proven: false, maxBodyBytes: OPEN_CALL_MAX_BYTES });
      expect(sut.admit(signed('node2', 'heartbeat', clock))).toMatchObject({ proven: true });
    });

    it('refuses a body other than the signed one, and a body that calls another method than the signed one', () => {
      expect(faultOf(() => authenticate(sut, 'get_room_states', [], signed('node2', 'get_room_states', clock), Buffer.from('<methodCall> </methodCall>')))?.message).toMatch(/not the one that was signed/);
      expect(faultOf(() => authenticate(sut, 'delete_room', ['r', 'u', 'node2'], signed('node2', 'heartbeat', clock)))?.message).toMatch(/the body calls delete_room but heartbeat was signed/);
    });

    it('hands the signer to the handler, and refuses a call whose sender param names another node', () => {
      expect(authenticate(sut, 'room_log_json', ['node2', '[]'], signed('node2', 'room_log_json', clock))).toBe('node2');
      expect(faultOf(() => authenticate(sut, 'room_log_json', ['node3', '[]'], signed('node2', 'room_log_json', clock)))).toEqual({
        code: -32401,
        message: expect.stringMatching(/names node "node3" but is signed by node2/),
      });
      expect(faultOf(() => authenticate(sut, 'join_room', ['r', 'alice', 'node3'], signed('node2', 'join_room', clock)))?.code).toBe(-32401);
      expect(authenticate(sut, 'commit_delete_room', ['r', 't'], signed('node3', 'commit_delete_room', clock))).toBe('node3');
    });

    it('signs replies to signed requests, and only to them', () => {
      const request = signed('node2', 'get_room_states', clock);
      expect(sut.replyHeaders(request, Buffer.from('reply'))).toEqual({ 'X-Chat-Boot': BOOT, 'X-Chat-Signature': expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(sut.replyHeaders({}, Buffer.from('reply'))).toEqual({});
    });
  });

  describe('without PEER_SECRET', () => {
    const sut = new PeerAuthenticator(config(), clock, BOOT);

    it('lets unsigned calls through but refuses sender ids that are not configured peers (-32602)', () => {
      expect(sut.signed).toBe(false);
      expect(authenticate(sut, 'get_room_states', [], {})).toBeNull();
      expect(authenticate(sut, 'room_log_json', ['node2', '[]'], {})).toBeNull();
      expect(faultOf(() => authenticate(sut, 'room_log_json', ['node9', '[]'], {}))).toEqual({ code: -32602, message: expect.stringMatching(/node "node9" is not in this node's PEER_NODES/) });
      expect(faultOf(() => authenticate(sut, 'forward_messages', ['node1', []], {}))?.code).toBe(-32602);
      expect(sut.replyHeaders({}, Buffer.from('reply'))).toEqual({});
    });
  });
});
