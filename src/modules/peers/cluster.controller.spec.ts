import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { FakeClock } from '../../testing/fakes';
import { heartbeatAnswer, peerDirectoryDeps } from '../../testing/peers';
import { ClusterController } from './cluster.controller';
import { PeerDirectory } from './peer-directory';

// Nothing listens on port 1; these specs never make a call.
const config = loadConfig({ NODE_ID: 'node1', WEBSOCKET_HOST: '127.0.0.1', WEBSOCKET_PORT: '8081', PEER_NODES: 'node2:http://127.0.0.1:1,node3:http://127.0.0.1:1' });

describe(ClusterController.name, () => {
  let moduleRef: TestingModule;
  let peers: PeerDirectory;
  let sut: ClusterController;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      controllers: [ClusterController],
      providers: [PeerDirectory, ...peerDirectoryDeps(), { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: new FakeClock() }],
    }).compile();
    peers = moduleRef.get(PeerDirectory);
    sut = moduleRef.get(ClusterController);
  });

  afterEach(() => moduleRef.close());

  it('lists this node first with its own client URL, and peers as unknown until they answer', () => {
    expect(sut.nodes()).toEqual({
      node_id: 'node1',
      nodes: [
        { node_id: 'node1', client_url: 'ws://127.0.0.1:8081/', status: 'self' },
        { node_id: 'node2', client_url: null, status: 'unknown' },
        { node_id: 'node3', client_url: null, status: 'unknown' },
      ],
    });
  });

  it('shows the client URL each peer advertised in its heartbeat, and keeps it while the peer is down', () => {
    peers.recordHeartbeat('node2', true, heartbeatAnswer('boot-a', { client_url: 'ws://10.0.0.2:8080/' }));
    peers.recordHeartbeat('node3', true, heartbeatAnswer('boot-b', { node_id: 'node3', client_url: '' })); // a peer that does not know its outside address
    peers.recordHeartbeat('node2', false);
    peers.recordHeartbeat('node2', false);
    expect(sut.nodes().nodes.slice(1)).toEqual([
      { node_id: 'node2', client_url: 'ws://10.0.0.2:8080/', status: 'failed' },
      { node_id: 'node3', client_url: null, status: 'healthy' },
    ]);
  });
});
