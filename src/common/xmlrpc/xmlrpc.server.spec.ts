import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { of } from 'rxjs';
import { decodeMethodResponse, encodeMethodCall } from './xmlrpc-codec';
import { XmlRpcFault, XmlRpcFaultCode } from './xmlrpc-fault';
import { XmlRpcContext } from './xmlrpc.context';
import { XmlRpcServer } from './xmlrpc.server';

@Controller()
class TestRpcController {
  @MessagePattern('heartbeat')
  heartbeat() {
    return { status: 'ok', node_id: 't', timestamp: new Date().toISOString() };
  }

  @MessagePattern('echo')
  echo(@Payload() params: unknown[]) {
    return params;
  }

  @MessagePattern('add')
  add(@Payload() params: unknown[]) {
    const [a, b] = params;
    if (params.length !== 2 || typeof a !== 'number' || typeof b !== 'number') {
      throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `add takes 2 integers, got ${params.length} params`);
    }
    return a + b;
  }

  @MessagePattern('path')
  path(@Ctx() context: XmlRpcContext) {
    return `${context.getMethod()} via ${context.getRequest().url}`;
  }

  @MessagePattern('observable')
  observable() {
    return of('first', 'last');
  }

  @MessagePattern('wait')
  async wait(@Payload() [ms]: [number]) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  }

  @MessagePattern('refuse')
  refuse() {
    throw new RpcException('room store unavailable');
  }

  @MessagePattern('crash')
  async crash() {
    throw new TypeError('internal detail');
  }

  @MessagePattern('unencodable')
  unencodable() {
    return 'bell \x07';
  }
}

@Module({ controllers: [TestRpcController] })
class TestRpcModule {}

const execFileAsync = promisify(execFile);

/** Runs Python's own XML-RPC client against the server (a real third-party peer). */
async function python(port: number, expression: string, path = ''): Promise<string> {
  const script = [
    'import xmlrpc.client as x',
    `p = x.ServerProxy('http://127.0.0.1:${port}${path}', allow_none=True)`,
    'try:',
    `    print(repr(${expression}))`,
    'except x.Fault as f:',
    "    print('Fault', f.faultCode, f.faultString)",
  ].join('\n');
  const { stdout } = await execFileAsync('/usr/bin/python3', ['-c', script], { timeout: 10_000 });
  return stdout.trim();
}

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function post(port: number, body: string | Buffer, options: http.RequestOptions = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/RPC2', method: 'POST', agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const faultOf = (reply: RawReply) => {
  try {
    decodeMethodResponse(reply.body);
  } catch (err) {
    if (err instanceof XmlRpcFault) return { code: err.code, faultString: err.faultString };
    throw err;
  }
  throw new Error(`expected a fault, got ${reply.body}`);
};

async function startMicroservice(port = 0): Promise<{ app: INestMicroservice; sut: XmlRpcServer }> {
  const sut = new XmlRpcServer({ host: '127.0.0.1', port, maxBodyBytes: 1024 * 1024 });
  const app = await NestFactory.createMicroservice(TestRpcModule, { strategy: sut, logger: false });
  await app.listen();
  return { app, sut };
}

describe(XmlRpcServer.name, () => {
  let app: INestMicroservice;
  let sut: XmlRpcServer;
  let port: number;

  beforeAll(async () => {
    ({ app, sut } = await startMicroservice());
    port = sut.boundPort!;
  });

  afterAll(async () => {
    await app.close();
  });

  describe('with Python xmlrpc.client as the caller', () => {
    it('answers heartbeat()', async () => {
      const output = await python(port, 'p.heartbeat()');
      expect(output).toMatch(/^\{'status': 'ok', 'node_id': 't', 'timestamp': '\d{4}-\d\d-\d\dT[\d:.]+Z'\}$/);
    });

    it('passes None in and gets None back, with unicode and markup intact', async () => {
      expect(await python(port, "p.echo(None, 'caf\\u00e9 \\U0001F600 \\u804a <&>', {'k': None}, [1, True, 2.5])")).toBe(
        "[None, 'café 😀 聊 <&>', {'k': None}, [1, True, 2.5]]",
      );
    });

    it('serves both / and /RPC2', async () => {
      expect(await python(port, 'p.path()', '/')).toBe("'path via /'");
      expect(await python(port, 'p.path()', '/RPC2')).toBe("'path via /RPC2'");
      expect(await python(port, 'p.path()')).toBe("'path via /RPC2'");
    });

    it('answers an unknown method with fault -32601', async () => {
      expect(await python(port, 'p.no_such_method(1)')).toBe('Fault -32601 method "no_such_method" is not supported');
    });

    it('answers an oversized body with fault -32600', async () => {
      expect(await python(port, "p.echo('x' * 2 * 1024 * 1024)")).toMatch(/^Fault -32600 Request body is larger than 1048576 bytes/);
    });

    it('answers wrong arity, detected by the handler, with fault -32602', async () => {
      expect(await python(port, 'p.add(1)')).toBe('Fault -32602 add takes 2 integers, got 1 params');
      expect(await python(port, 'p.add(1, 2)')).toBe('3');
    });
  });

  describe('dispatch', () => {
    const call = async (method: string, params: unknown[] = []) => decodeMethodResponse((await post(port, encodeMethodCall(method, params))).body);

    it('replies with text/xml', async () => {
      const reply = await post(port, encodeMethodCall('heartbeat', []));
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('text/xml');
    });

    it("answers an Observable handler with the stream's last value", async () => {
      expect(await call('observable')).toBe('last');
    });

    it('turns an RpcException into fault -32500 with its message', async () => {
      await expect(call('refuse')).rejects.toMatchObject({ code: -32500, faultString: 'room store unavailable' });
    });

    it('turns any other error into fault -32500 without leaking its details', async () => {
      await expect(call('crash')).rejects.toMatchObject({ code: -32500, faultString: 'Internal server error' });
    });

    it('answers a result XML cannot carry with fault -32500', async () => {
      await expect(call('unencodable')).rejects.toMatchObject({ code: -32500, faultString: expect.stringContaining('U+0007') });
    });

    it('handles calls concurrently: a slow handler does not hold up others', async () => {
      const slow = call('wait', [400]).then(() => 'slow');
      const fast = call('heartbeat').then(() => 'fast');
      expect(await Promise.race([slow, fast])).toBe('fast');
      await slow;
    });
  });

  describe('hostile or broken requests', () => {
    it('answers malformed XML with fault -32700', async () => {
      const reply = await post(port, '<methodCall><methodName>heartbeat</methodName>');
      expect(reply.status).toBe(200);
      expect(faultOf(reply)).toEqual({ code: -32700, faultString: expect.stringContaining('Malformed XML') });
    });

    it('answers well-formed XML that is not a methodCall with fault -32600', async () => {
      expect(faultOf(await post(port, '<hello/>'))).toMatchObject({ code: -32600 });
    });

    it('refuses other HTTP methods and paths with a fault body', async () => {
      const get = await post(port, '', { method: 'GET' });
      expect(get.status).toBe(405);
      expect(faultOf(get)).toMatchObject({ code: -32600 });
      const elsewhere = await post(port, encodeMethodCall('heartbeat', []), { path: '/admin' });
      expect(elsewhere.status).toBe(404);
      expect(faultOf(elsewhere)).toMatchObject({ code: -32600 });
    });

    it('accepts gzip request bodies', async () => {
      const reply = await post(port, gzipSync(encodeMethodCall('echo', ['zipped'])), { headers: { 'Content-Encoding': 'gzip' } });
      expect(decodeMethodResponse(reply.body)).toEqual(['zipped']);
    });

    it('refuses a gzip bomb and a body that is not gzip', async () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, ' '));
      expect(faultOf(await post(port, bomb, { headers: { 'Content-Encoding': 'gzip' } }))).toMatchObject({ code: -32600 });
      expect(faultOf(await post(port, 'plain', { headers: { 'Content-Encoding': 'gzip' } }))).toMatchObject({ code: -32700 });
    });

    it.each([
      ['with Content-Length', {}],
      ['chunked', { headers: { 'Transfer-Encoding': 'chunked' } }],
    ])('cuts a body far over the limit (%s) without buffering it', async (_, options) => {
      const huge = await post(port, Buffer.alloc(64 * 1024 * 1024, 'x'), options).then(
        (reply) => ({ reply }),
        (error: NodeJS.ErrnoException) => ({ error }),
      );
      // Either the fault arrives before the cut, or the connection is reset: never a success.
      if ('reply' in huge) expect(faultOf(huge.reply)).toMatchObject({ code: -32600 });
      else expect(huge.error.code).toMatch(/^(ECONNRESET|EPIPE)$/);
    });

    it('still serves normal calls after all of that', async () => {
      expect(await python(port, "p.heartbeat()['status']")).toBe("'ok'");
    });
  });
});

describe(`${XmlRpcServer.name} lifecycle`, () => {
  it('fails to start with a clear message when the port is taken', async () => {
    const first = await startMicroservice();
    try {
      await expect(startMicroservice(first.sut.boundPort)).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
    } finally {
      await first.app.close();
    }
  });

  it('close() tears down idle keep-alive connections promptly', async () => {
    const { app, sut } = await startMicroservice();
    const agent = new http.Agent({ keepAlive: true });
    const socketClosed = new Promise<void>((resolve) => {
      sut.on('connection', (socket: net.Socket) => socket.on('close', () => resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: sut.boundPort, path: '/', method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(encodeMethodCall('heartbeat', []));
    });

    const started = performance.now();
    await app.close();
    await socketClosed;
    expect(performance.now() - started).toBeLessThan(1000); // the keep-alive timeout is 10 s
    agent.destroy();
  });

  it('close() also cuts a connection stuck mid-request', async () => {
    const { app, sut } = await startMicroservice();
    const requestStarted = new Promise((resolve) => sut.on('request', resolve));
    const socket = net.connect(sut.boundPort!, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<methodCall>');
    const socketClosed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    await requestStarted; // the server holds the request, waiting for the rest of its body

    const closing = Promise.all([app.close(), socketClosed]);
    const tooLate = new Promise((_, reject) => setTimeout(() => reject(new Error('close() waited for the stuck request')), 1000).unref());
    try {
      await Promise.race([closing, tooLate]); // the request timeout is 30 s
    } finally {
      socket.destroy();
    }
  });
});
