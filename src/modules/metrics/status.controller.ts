import { Controller, Get, Header, Inject, Query } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PeerDirectory } from '../peers/peer-directory';
import { FailoverHistory } from '../rooms/failover/failover-history';
import { RoomLogOutbox } from '../rooms/replication/room-log-outbox';
import { NodeGauges } from './node-gauges';
import { PeerStatusFetcher } from './peer-status.fetcher';
import { RateHistory } from './rate-history';
import type { ClusterNodeStatus, ClusterStatusView, NodeStatusView } from './status-view';

/**
 * `GET /status.json`: this node, and each peer's own view read from its advertised address, for
 * the status page (`/status`). `?scope=node` answers with this node's view only (what peers read).
 * It shows what /metrics shows (no file paths, no error texts), so it is as open as /metrics.
 */
const CLUSTER_VIEW_REUSE_MS = 1000;

@Controller('status.json')
export class StatusController {
  /** The last cluster view, shared for a second: many open status pages cost one round of peer reads. */
  private recent: { at: number; view: Promise<ClusterStatusView> } | null = null;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly peers: PeerDirectory,
    private readonly gauges: NodeGauges,
    private readonly rates: RateHistory,
    private readonly fetcher: PeerStatusFetcher,
    private readonly clock: Clock,
    private readonly failovers: FailoverHistory,
    private readonly outbox: RoomLogOutbox,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async status(@Query('scope') scope?: string): Promise<ClusterStatusView | NodeStatusView> {
    if (scope === 'node') return this.nodeView();
    const now = this.clock.monotonic();
    if (!this.recent || now - this.recent.at >= CLUSTER_VIEW_REUSE_MS) this.recent = { at: now, view: this.clusterView() };
    return this.recent.view;
  }

  private async clusterView(): Promise<ClusterStatusView> {
    const own = this.nodeView();
    const peers = await Promise.all(
      this.peers.allHealth().map(async (h): Promise<ClusterNodeStatus> => {
        const base = { node_id: h.nodeId, status: h.status, client_url: h.clientUrl };
        if (h.status === 'failed') return { ...base, view: null, view_error: 'it does not answer heartbeats' };
        if (h.status === 'unknown') return { ...base, view: null, view_error: 'it has not answered a heartbeat yet' };
        if (!h.clientUrl) return { ...base, view: null, view_error: 'it advertises no CLIENT_URL' };
        try {
          return { ...base, view: await this.fetcher.fetch(h.clientUrl), view_error: null };
        } catch (e) {
          return { ...base, view: null, view_error: (e as Error).message };
        }
      }),
    );
    const self: ClusterNodeStatus = { node_id: this.config.nodeId, status: 'self', client_url: this.config.clientUrl, view: own, view_error: null };
    return { node_id: this.config.nodeId, generated_at: this.clock.iso(), nodes: [self, ...peers] };
  }

  private nodeView(): NodeStatusView {
    const s = this.gauges.snapshot();
    return {
      node_id: this.config.nodeId,
      uptime_s: Math.round(process.uptime()),
      connections: s.connections,
      rooms_hosted: s.roomsHosted,
      rooms_replica: s.roomsReplica,
      messages_total: s.messagesTotal,
      deliveries_total: s.deliveriesTotal,
      peers: this.peers.allHealth().map((h) => ({ node_id: h.nodeId, status: h.status, last_seen: h.lastSeen === null ? null : this.clock.iso(h.lastSeen) })),
      replication: this.outbox.backlog().map((b) => ({
        peer: b.peer,
        pending: b.pending,
        oldest_pending_s: b.oldestPendingMs === null ? null : Math.round(b.oldestPendingMs / 100) / 10,
        failing: b.failing,
      })),
      rates: this.rates.series(),
      failovers: this.failovers.list().map((f) => ({ room_id: f.room_id, at: f.at, from_node: f.from_node, to_node: f.to_node })),
    };
  }
}
