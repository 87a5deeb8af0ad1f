import * as net from 'node:net';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { XmlRpcEncodeError, XmlRpcTimeoutError, XmlRpcTransportError } from './xmlrpc-errors';
import { XmlRpcFault } from './xmlrpc-fault';
import { XmlRpcServer } from './xmlrpc.server';
import { XmlRpcClient } from './xmlrpc.client';

@Controller()
class PeerController {
  @MessagePattern('heartbeat')
  heartbeat() {
    return { status: 'ok', node_id: 'peer', timestamp: '2026-01-01T00:00:00.000Z' };
  }

  @MessagePattern('echo')
  echo(@Payload() params: unknown[]) {
    return params;
  }
}

@Module({ controllers: [PeerController] })
class PeerModule {}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe(XmlRpcClient.name, () => {
  let peer: INestMicroservice;
  let peerServer: XmlRpcServer;
  let connections: number;
  let sut: XmlRpcClient;

  beforeAll(async () => {
    peerServer = new XmlRpcServer({ host: '127.0.0.1', port: 0 });
    peerServer.on('connection', () => connections++);
    peer = await NestFactory.createMicroservice(PeerModule, { strategy: peerServer, logger: false });
    await peer.listen();
  });

  afterAll(async () => {
    await peer.close();
  });

  beforeEach(() => {
    connections = 0;
    sut = new XmlRpcClient({ url: `http://127.0.0.1:${peerServer.boundPort}` });
  });

  afterEach(() => {
    sut.close();
  });

  it('resolves with the result of the call', async () => {
    await expect(sut.call('heartbeat', [])).resolves.toEqual({ status: 'ok', node_id: 'peer', timestamp: '2026-01-01T00:00:00.000Z' });
    await expect(sut.call('echo', ['room-1', null, { n: 1 }])).resolves.toEqual(['room-1', null, { n: 1 }]);
  });

  it('posts to /RPC2 like Python clients do', () => {
    expect(sut.url).toBe(`http://127.0.0.1:${peerServer.boundPort}/RPC2`);
    expect(new XmlRpcClient({ url: 'http://peer:9090/custom' }).url).toBe('http://peer:9090/custom');
  });

  it('rejects with XmlRpcFault when the peer answers with a fault', async () => {
    const call = sut.call('no_such_method', []);
    await expect(call).rejects.toBeInstanceOf(XmlRpcFault);
    await expect(call).rejects.toMatchObject({ code: -32601, faultString: 'method "no_such_method" is not supported' });
  });

  it('reuses one keep-alive connection for consecutive calls', async () => {
    await sut.call('heartbeat', []);
    await sut.call('heartbeat', []);
    await sut.call('echo', [1]);
    expect(connections).toBe(1);
  });

  it('works through ClientProxy.send() as an Observable', async () => {
    await expect(lastValueFrom(sut.send('echo', ['a', 2]))).resolves.toEqual(['a', 2]);
    await expect(lastValueFrom(sut.send('nope', []))).rejects.toMatchObject({ code: -32601 });
  });

  it('rejects (never throws) when a param cannot be encoded', async () => {
    const call = sut.call('echo', ['bell \x07']);
    await expect(call).rejects.toBeInstanceOf(XmlRpcEncodeError);
    expect(connections).toBe(0);
  });

  it('rejects with a clear transport error when the connection is refused', async () => {
    const port = await closedPort();
    const client = new XmlRpcClient({ url: `http://127.0.0.1:${port}` });
    try {
      const call = client.call('heartbeat', []);
      await expect(call).rejects.toBeInstanceOf(XmlRpcTransportError);
      await expect(call).rejects.toThrow(`XML-RPC call heartbeat to http://127.0.0.1:${port}/RPC2 failed: connect ECONNREFUSED`);
    } finally {
      client.close();
    }
  });

  it('times out on a peer that accepts the connection and never answers', async () => {
    const accepted = new Set<net.Socket>();
    const blackHole = net.createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port } = blackHole.address() as net.AddressInfo;
    const client = new XmlRpcClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
    try {
      const started = performance.now();
      const call = client.call('heartbeat', [], 300);
      await expect(call).rejects.toBeInstanceOf(XmlRpcTimeoutError);
      await expect(call).rejects.toThrow(`XML-RPC call heartbeat to http://127.0.0.1:${port}/RPC2 got no answer within 300 ms`);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(accepted.size).toBe(1);
    } finally {
      client.close();
      accepted.forEach((socket) => socket.destroy());
      await new Promise((resolve) => blackHole.close(resolve));
    }
  });
});
