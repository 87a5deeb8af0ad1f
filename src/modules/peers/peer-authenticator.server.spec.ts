import * as http from 'node:http';
import * as net from 'node:net';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { PeerCallSigner, XmlRpcClient, XmlRpcFault, XmlRpcServer, XmlRpcTransportError, encodeMethodCall } from '../../common/xmlrpc';
import { PeerAuthenticator } from './peer-authenticator';

const SECRET = 'the-cluster-secret-0123456789';
const BOOT = 'boot-of-node1-this-run';

@Controller()
class Handlers {
  static calls = 0;

  @MessagePattern('heartbeat')
  heartbeat() {
    return { status: 'ok' };
  }

  @MessagePattern('get_room_states')
  roomStates(@Payload() _: unknown[]) {
    Handlers.calls++;
    return { rooms: [], deleted: [] };
  }
}

@Module({ controllers: [Handlers] })
class HandlersModule {}

/** Raw bytes on a fresh connection; resolves with what came back before the server closed it (or after `waitMs`). */
function raw(port: number, bytes: string | Buffer, waitMs = 3000): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: performance.now() - started });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}

/**
 * The XML-RPC server with the node's PeerAuthenticator, over real sockets: what a stranger can
 * make the port do before authenticating, and what a peer's client accepts as an answer.
 */
describe(`${PeerAuthenticator.name} on a real XmlRpcServer`, () => {
  let app: INestMicroservice;
  let server: XmlRpcServer;
  let port: number;
  const clients: XmlRpcClient[] = [];
  const client = (signer?: PeerCallSigner, url = `http://127.0.0.1:${port}`) => {
    const c = new XmlRpcClient({ url, timeoutMs: 3000, signer });
    clients.push(c);
    return c;
  };
  const signer = (boot = BOOT, secret = SECRET) => new PeerCallSigner(secret, 'node2', 'node1', Date.now, boot);

  beforeAll(async () => {
    const config = loadConfig({ NODE_ID: 'node1', PEER_NODES: 'node2:http://127.0.0.1:1', PEER_SECRET: SECRET });
    server = new XmlRpcServer({ host: '127.0.0.1', port: 0, authenticator: new PeerAuthenticator(config, new Clock(), BOOT), maxConnections: 8, headersTimeoutMs: 400, requestTimeoutMs: 800 });
    app = await NestFactory.createMicroservice(HandlersModule, { strategy: server, logger: false });
    await app.listen();
    port = server.boundPort!;
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await app.close();
  });

  it('answers a signed call with a reply the client checks; a peer that restarted is signed for again, once, without the caller noticing', async () => {
    await expect(client(signer()).call('get_room_states', [])).resolves.toEqual({ rooms: [], deleted: [] });
    // a client that still knows this node's previous run: refused once, told the new boot id in a signed reply, signs again
    const before = Handlers.calls;
    await expect(client(signer('the-previous-run')).call('get_room_states', [])).resolves.toEqual({ rooms: [], deleted: [] });
    expect(Handlers.calls).toBe(before + 1);
  });

  it('refuses a call whose signature headers do not verify before reading its body: the answer comes with 10 of 1 MiB sent', async () => {
    const body = encodeMethodCall('get_room_states', []);
    const headers = Object.entries(signer().headers('get_room_states', Buffer.from(body)))
      .map(([k, v]) => `${k}: ${k === 'X-Chat-Signature' ? 'f'.repeat(64) : v}`)
      .join('\r\n');
    const reply = await raw(port, `POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${1024 * 1024}\r\n${headers}\r\n\r\n<methodCall>`);
    expect(reply.text).toMatch(/^HTTP\/1.1 200/);
    expect(reply.text).toMatch(/-32401[\s\S]*signature does not match/);
  });

  it('reads no more than a heartbeat needs from an unsigned caller', async () => {
    const big = encodeMethodCall('get_room_states', ['x'.repeat(100 * 1024)]);
    const fault = await client().call('get_room_states', ['x'.repeat(100 * 1024)]).catch((e: unknown) => e);
    expect(fault).toBeInstanceOf(XmlRpcFault);
    expect((fault as XmlRpcFault).faultString).toMatch(/larger than 16384 bytes/);
    expect(big.length).toBeGreaterThan(16 * 1024);
    await expect(client().call('heartbeat', [])).resolves.toEqual({ status: 'ok' }); // probes still answered
  });

  it('a client with the secret refuses an unsigned answer (an on-path forger of `true`) and one signed with another secret', async () => {
    const forger = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<?xml version="1.0"?><methodResponse><params><param><value><boolean>1</boolean></value></param></params></methodResponse>');
    });
    await new Promise<void>((r) => forger.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(forger.address() as net.AddressInfo).port}`;
      const refused = await client(signer(), url).call('replicate_events_json', ['node2', '[]']).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(XmlRpcTransportError);
      expect((refused as Error).message).toMatch(/reply was refused: the reply is not signed/);
      // the same call to the real node with another secret: its fault is signed with the node's secret, which this client does not hold
      const wrong = await client(signer(BOOT, 'another-secret-entirely-0')).call('get_room_states', []).catch((e: unknown) => e);
      expect((wrong as Error).message).toMatch(/reply was refused: the reply's signature does not match/);
    } finally {
      forger.close();
    }
  });

  it('cuts a sender that does not finish its headers in time, and one that trickles its body', async () => {
    const slowHeaders = await raw(port, 'POST /RPC2 HTTP/1.1\r\nHost: x\r\n', 5000);
    expect(slowHeaders.closed).toBe(true);
    expect(slowHeaders.ms).toBeLessThan(3000);
    const slowBody = await raw(port, 'POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 500\r\n\r\n<methodCall>', 5000);
    expect(slowBody.closed).toBe(true);
    expect(slowBody.ms).toBeLessThan(3000);
  });

  it('keeps at most XMLRPC_MAX_CONNECTIONS open: idle strangers are dropped oldest first, while a peer\'s connection stays and calls go through', async () => {
    const peer = client(signer());
    await peer.call('get_room_states', []); // its keep-alive connection is now proven
    const idle: net.Socket[] = [];
    for (let i = 0; i < 30; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      idle.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(server.connections.size).toBeLessThanOrEqual(8);
    expect(idle.filter((s) => !s.destroyed && s.readyState === 'open').length).toBeLessThanOrEqual(8);
    await expect(peer.call('get_room_states', [])).resolves.toEqual({ rooms: [], deleted: [] });
    await expect(client(signer()).call('get_room_states', [])).resolves.toBeDefined(); // a new peer connection gets in too
    for (const s of idle) s.destroy();
  });
});
