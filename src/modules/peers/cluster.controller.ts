import { Controller, Get, Header, Inject } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import type { PeerStatus } from './peer-health';
import { PeerDirectory } from './peer-directory';

export interface ClusterNodeView {
  node_id: string;
  /** WebSocket URL a browser can use, or null when that node does not know its outside address. */
  client_url: string | null;
  status: PeerStatus | 'self';
}

/**
 * `GET /cluster` on the client port: this node and its peers with the client URLs they advertise,
 * so a web page served by one node knows where to reconnect when that node goes away. Readable
 * from pages served by other nodes (CORS), since a page keeps asking whichever node it is on.
 */
@Controller('cluster')
export class ClusterController {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly peers: PeerDirectory,
  ) {}

  @Get()
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Cache-Control', 'no-store')
  nodes(): { node_id: string; nodes: ClusterNodeView[] } {
    const self: ClusterNodeView = { node_id: this.config.nodeId, client_url: this.config.clientUrl, status: 'self' };
    const peers = this.peers.allHealth().map((h): ClusterNodeView => ({ node_id: h.nodeId, client_url: h.clientUrl, status: h.status }));
    return { node_id: this.config.nodeId, nodes: [self, ...peers] };
  }
}
