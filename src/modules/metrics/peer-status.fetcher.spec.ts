import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PeerStatusFetcher } from './peer-status.fetcher';

describe(PeerStatusFetcher.name, () => {
  let server: Server;
  let reply: { status: number; body: string };
  let asked: string[];
  let clientUrl: string;
  const sut = new PeerStatusFetcher();
  const view = { node_id: 'node2', uptime_s: 1, connections: 0, rooms_hosted: 0, rooms_replica: 0, messages_total: 0, deliveries_total: 0, peers: [], replication: [], failovers: [], rates: { interval_s: 2, messages_per_s: [1], deliveries_per_s: [2] } };

  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    clientUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  beforeEach(() => (asked = []));

  it("reads the peer's own view at its advertised client address", async () => {
    reply = { status: 200, body: JSON.stringify(view) };
    expect(await sut.fetch(clientUrl)).toEqual(view);
    expect(asked).toEqual(['/status.json?scope=node']);
  });

  it('refuses an answer that is not a status view, or not a success', async () => {
    reply = { status: 200, body: JSON.stringify({ ...view, rates: { interval_s: 2, messages_per_s: ['x'], deliveries_per_s: [] } }) };
    await expect(sut.fetch(clientUrl)).rejects.toThrow(/not a status view/);
    reply = { status: 200, body: 'null' };
    await expect(sut.fetch(clientUrl)).rejects.toThrow(/not a status view/);
    reply = { status: 503, body: '{}' };
    await expect(sut.fetch(clientUrl)).rejects.toThrow(/HTTP 503/);
  });
});
