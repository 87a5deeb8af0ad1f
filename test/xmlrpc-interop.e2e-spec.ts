import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { decodeMethodResponse, PeerCallSigner, XmlRpcClient, XmlRpcFault, XmlRpcServer, XmlRpcTransportError } from '../src/common/xmlrpc';
import { TestCluster } from './support/cluster';
import { TestClient } from './support/test-client';
import { PackageClient, PackageServer } from './support/xmlrpc-package';

/**
 * The design card's `xmlrpc` npm package (1.3.2) and our codec understand each other, over real
 * sockets both ways: its client calls our XmlRpcServer and a real node (heartbeat, signed peer
 * methods), our XmlRpcClient calls a server built with the package. Every value kind the peer
 * methods use comes back the same; the differences are the decisions docs/protocol.md lists under
 * "The xmlrpc npm package", each pinned here.
 */

/** Values of every kind the peer methods carry, as they appear in them. */
const VALUES: [string, unknown][] = [
  ['a plain string (ids, names)', 'node2'],
  ['a string with markup (message content)', `<b>bold</b> & "quotes" 'apos' <![CDATA[x]]> &amp;`],
  ['non-ASCII text', 'Grüße 😀 中文 \u{10FFFF}'],
  ['whitespace only', '  \n\t '],
  ['an empty string', ''],
  ['a JSON payload (replicate_events_json)', JSON.stringify([{ kind: 'message', message: { content: '<i>x</i> & y\r\n', sequence_number: 7 } }])],
  ['int 0', 0],
  ['the largest i4', 2 ** 31 - 1],
  ['the smallest i4', -(2 ** 31)],
  ['a double', 3.25],
  ['a small negative double', -1.5e-10],
  ['true', true],
  ['false', false],
  ['nil (an absent optional param)', null],
  ['an empty struct', {}],
  ['an empty array', []],
  [
    'a message struct (MessageWire)',
    { message_id: 'm-1', room_id: 'r-1', username: 'ann', content: '<3 & more', sequence_number: 42, timestamp: '2026-01-02T03:04:05.000Z', client_message_id: null },
  ],
  [
    'an array of structs (forward_messages items)',
    [
      { room_id: 'r', username: 'u', content: 'a < b', client_message_id: 'c1', host_epoch: 2 },
      { room_id: 'r', username: 'v', content: '', client_message_id: null, host_epoch: null },
    ],
  ],
  ['nested arrays and structs, mixed kinds', { rooms: [{ members: [{ username: 'x', joined_at: 't' }], last: 1, ok: true, ratio: 0.5 }], deleted: [], next_cursor: null }],
];

/** A methodCall written by hand with <i4> (neither codec writes it; Python's and other peers may). */
const I4_CALL = '<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param><value><i4>-7</i4></value></param><param><value><i4>2147483647</i4></value></param></params></methodCall>';
const postXml = async (url: string, body: string) => (await fetch(`${url}/RPC2`, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body })).text();

@Controller()
class EchoController {
  /** What our decoder made of the last call, to compare one direction on its own. */
  static seen: unknown[] = [];

  @MessagePattern('echo')
  echo(@Payload() params: unknown[]) {
    EchoController.seen = params;
    return params;
  }

  @MessagePattern('refuse')
  refuse(@Payload() [code, text]: [number, string]) {
    throw new XmlRpcFault(code, text);
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

describe('the xmlrpc package (1.3.2) and our codec, over real sockets', () => {
  describe('its client -> our XmlRpcServer', () => {
    let app: INestMicroservice;
    let client: PackageClient;
    let url: string;

    beforeAll(async () => {
      const server = new XmlRpcServer({ host: '127.0.0.1', port: 0 });
      app = await NestFactory.createMicroservice(EchoModule, { strategy: server, logger: false });
      await app.listen();
      url = `http://127.0.0.1:${server.boundPort}`;
      client = new PackageClient(url);
    });
    afterAll(() => app?.close());

    it.each(VALUES)('%s: we read what it wrote, and it reads our reply back the same', async (_, value) => {
      const echoed = await client.call('echo', [value, 'after']);
      expect(EchoController.seen).toEqual([value, 'after']);
      expect(echoed).toEqual([value, 'after']);
    });

    it('a call without params (heartbeat) reaches us as an empty params list', async () => {
      expect(await client.call('echo', [])).toEqual([]);
      expect(EchoController.seen).toEqual([]);
    });

    it('<i4> reads as <int> (with the reply: <int> both ways)', async () => {
      expect(decodeMethodResponse(await postXml(url, I4_CALL))).toEqual([-7, 2 ** 31 - 1]);
    });

    it('base64 round-trips as bytes; decision: dateTime.iso8601 (no peer method sends one) we read as its text, where it reads a Date', async () => {
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      const date = new Date('2026-01-02T03:04:05Z');
      const [gotBytes, gotDate] = (await client.call('echo', [bytes, date])) as [Buffer, unknown];
      expect(EchoController.seen).toEqual([bytes, '20260102T03:04:05']);
      expect([Buffer.from(gotBytes), gotDate]).toEqual([bytes, '20260102T03:04:05']); // our echo wrote the text back as a string
    });

    it('our faults reach it with their code and string', async () => {
      expect(await client.fault('refuse', [-32409, 'room r moved to <node3> & epoch 4'])).toEqual({ faultCode: -32409, faultString: 'room r moved to <node3> & epoch 4' });
      expect(await client.fault('no_such_method', [])).toEqual({ faultCode: -32601, faultString: 'method "no_such_method" is not supported' });
    });

    it('decision: integers beyond 32 bits it writes as <int>; we read them as numbers, and our <i8> reply it reads as a decimal string', async () => {
      expect(await client.call('echo', [2 ** 40])).toEqual(['1099511627776']);
      expect(EchoController.seen).toEqual([2 ** 40]);
    });

    it('decision: what it writes for undefined (an empty <value/>) we read as the empty string', async () => {
      await client.call('echo', [undefined]);
      expect(EchoController.seen).toEqual(['']);
    });

    it('decision: a string holding markup and a carriage return loses the \\r (its CDATA section meets XML end-of-line normalisation)', async () => {
      await client.call('echo', ['a<b\r\nc\rd', 'a\r\nb']);
      expect(EchoController.seen).toEqual(['a<b\nc\nd', 'a\r\nb']);
    });

    it('decision: what it writes for NaN (<double>NaN</double>) and 1e21 (<int>1e+21</int>) is not XML-RPC: refused with -32600', async () => {
      expect(await client.fault('echo', [NaN])).toEqual({ faultCode: -32600, faultString: 'Invalid XML-RPC: "NaN" is not a double' });
      expect((await client.fault('echo', [1e21])).faultCode).toBe(-32600);
    });

    it('decision: a string holding markup and two "]]>" it writes as malformed XML (it splits only the first in its CDATA section): refused with -32700', async () => {
      expect((await client.fault('echo', ['<a> ]]> and ]]>'])).faultCode).toBe(-32700);
      expect(await client.call('echo', ['<a> ]]> once'])).toEqual(['<a> ]]> once']);
    });
  });

  describe('our XmlRpcClient -> a server built with the package', () => {
    let server: PackageServer;
    let client: XmlRpcClient;
    let seen: unknown[] = [];

    beforeAll(async () => {
      server = await PackageServer.start({
        echo: (params) => (seen = params),
        refuse: ([code, text]) => {
          throw { faultCode: code, faultString: text };
        },
        crash: () => {
          throw new Error('boom');
        },
      });
      client = new XmlRpcClient({ url: server.url, timeoutMs: 5000 });
    });
    afterAll(async () => {
      client?.close();
      await server?.stop();
    });

    it.each(VALUES)('%s: it reads what we wrote, and we read its reply back the same', async (_, value) => {
      const echoed = await client.call('echo', [value, 'after']);
      expect(seen).toEqual([value, 'after']);
      expect(echoed).toEqual([value, 'after']);
    });

    it('a call without params (heartbeat) reaches it as an empty params list', async () => {
      expect(await client.call('echo', [])).toEqual([]);
      expect(seen).toEqual([]);
    });

    it('<i4> reads as <int> there too', async () => {
      expect(decodeMethodResponse(await postXml(server.url, I4_CALL))).toEqual([-7, 2 ** 31 - 1]);
    });

    it('its faults reach us as XmlRpcFault with their code and string', async () => {
      const fault = await client.call('refuse', [-32409, 'moved to <node3> & on']).catch((e: unknown) => e);
      expect(fault).toBeInstanceOf(XmlRpcFault);
      expect({ code: (fault as XmlRpcFault).code, faultString: (fault as XmlRpcFault).faultString }).toEqual({ code: -32409, faultString: 'moved to <node3> & on' });
    });

    it('decision: a handler there that fails with an Error (not {faultCode, faultString}) sends an empty fault, which we report as a transport error', async () => {
      const err = await client.call('crash', []).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(XmlRpcTransportError);
      expect((err as Error).message).toContain('<fault> has no integer faultCode');
    });

    it('decision: an unknown method is an empty HTTP 404 there, not a fault; our client reports a transport error', async () => {
      const err = await client.call('no_such_method', []).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(XmlRpcTransportError);
      expect((err as Error).message).toContain('(HTTP 404)');
    });

    it('decision: our <i8> for integers beyond 32 bits reaches its handlers as a decimal string (no peer method sends one)', async () => {
      await client.call('echo', [2 ** 40, 2 ** 31 - 1]);
      expect(seen).toEqual(['1099511627776', 2 ** 31 - 1]);
    });

    it('decision: undefined goes out as <nil/> (it reads null)', async () => {
      await client.call('echo', [undefined]);
      expect(seen).toEqual([null]);
    });
  });

  describe('its client -> a real node (peer port, signed with X-Chat-* headers)', () => {
    let cluster: TestCluster;
    let ws: TestClient;
    let roomId: string;
    let client: PackageClient;
    const contents = ['<b>hi</b> & bye', 'Grüße 😀', 'line 1\nline 2', '   '];
    /** node1's run: signatures name the run they are for (a call captured before a restart does not verify after it). */
    let node1Boot: string;
    const signer = (secret = cluster.peerSecret!) => new PeerCallSigner(secret, 'node2', 'node1', Date.now, node1Boot);

    beforeAll(async () => {
      cluster = await TestCluster.start(2);
      client = new PackageClient(cluster.node(1).rpcUrl);
      node1Boot = ((await client.call('heartbeat', [])) as { boot_id: string }).boot_id;
      ws = await TestClient.connect(cluster.node(1).url);
      roomId = (await ws.request('create_room', { room_name: 'interop <room>', creator_id: 'ann', description: null }, 'room_created')).data.room_id as string;
      await ws.request('join_room', { room_id: roomId, username: 'ann' }, 'join_room_success');
      for (const content of contents) await ws.request('send_message', { room_id: roomId, username: 'ann', content }, 'message_sent');
    }, 60_000);
    afterAll(async () => {
      await ws?.close();
      await cluster?.stop();
    });

    it('heartbeat, unsigned: the struct every probe reads', async () => {
      expect(await client.call('heartbeat', [])).toEqual({
        status: 'ok',
        node_id: 'node1',
        timestamp: expect.any(String),
        boot_id: node1Boot,
        client_url: expect.any(String),
        disk_id: expect.any(String),
        disks: expect.any(Object),
        cluster_view: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
    });

    it('a signed get_messages (string, int, nil, int, boolean in; structs, ints, strings with markup out) reads as our own client reads it', async () => {
      const params = [roomId, 0, null, 100, true];
      const theirs = (await client.call('get_messages', params, signer())) as { messages: { content: string; sequence_number: number }[] };
      const ours = await new XmlRpcClient({ url: cluster.node(1).rpcUrl, signer: signer() }).call('get_messages', params);
      expect(theirs).toEqual(ours);
      expect(theirs.messages.map((m) => [m.sequence_number, m.content])).toEqual(contents.map((c, i) => [i + 1, c]));
    });

    it('a signed is_username_held answers a boolean', async () => {
      expect(await client.call('is_username_held', ['ann'], signer())).toBe(true);
      expect(await client.call('is_username_held', ['nobody'], signer())).toBe(false);
    });

    it('unsigned or wrongly signed calls get the -32401 fault, bad params -32602', async () => {
      expect((await client.fault('get_messages', [roomId, 0, null, 100])).faultCode).toBe(-32401);
      expect((await client.fault('get_messages', [roomId, 0, null, 100], signer('not-the-cluster-secret-at-all'))).faultCode).toBe(-32401);
      expect((await client.fault('get_messages', [roomId, 'zero', null, 100], signer())).faultCode).toBe(-32602);
    });
  });
});
