import type { PeerStatus } from '../peers/peer-health';

export interface RateSeries {
  interval_s: number;
  /** Per interval, oldest first: messages sequenced here and frames delivered here, per second. */
  messages_per_s: number[];
  deliveries_per_s: number[];
}

/** One node's own view of itself and its peers (`GET /status.json?scope=node`). */
export interface NodeStatusView {
  node_id: string;
  uptime_s: number;
  connections: number;
  rooms_hosted: number;
  rooms_replica: number;
  messages_total: number;
  deliveries_total: number;
  peers: { node_id: string; status: PeerStatus; last_seen: string | null }[];
  replication: { peer: string; pending: number; oldest_pending_s: number | null; failing: boolean }[];
  rates: RateSeries;
  /** Rooms this node took over from a host that stopped answering (the latest 20). */
  failovers: { room_id: string; at: string; from_node: string; to_node: string }[];
}

/** A node of the cluster as the answering node sees it, with that node's own view when it could be read. */
export interface ClusterNodeStatus {
  node_id: string;
  /** `self`, or the peer's heartbeat status as seen by the answering node. */
  status: PeerStatus | 'self';
  client_url: string | null;
  view: NodeStatusView | null;
  /** Why `view` is missing (no advertised address, or the request failed). */
  view_error: string | null;
}

/** `GET /status.json`: the whole cluster, for the operators' status page. */
export interface ClusterStatusView {
  node_id: string;
  generated_at: string;
  nodes: ClusterNodeStatus[];
}
