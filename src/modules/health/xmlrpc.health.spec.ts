import { HealthIndicatorService } from '@nestjs/terminus';
import * as net from 'node:net';
import { loadConfig } from '../../common/config/load-config';
import { freePort } from '../../cluster/ports';
import { XmlRpcHealthIndicator } from './xmlrpc.health';

describe(XmlRpcHealthIndicator.name, () => {
  it('is up while the XML-RPC port accepts connections, down when nothing listens', async () => {
    const port = await freePort();
    const sut = new XmlRpcHealthIndicator(loadConfig({ XMLRPC_PORT: String(port) }), new HealthIndicatorService());
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      expect((await sut.check()).xmlrpc).toMatchObject({ status: 'up', address: `0.0.0.0:${port}` });
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect((await sut.check()).xmlrpc.status).toBe('down');
  });
});
