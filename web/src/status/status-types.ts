// Shapes of GET /status.json: the server's own types (type-only: nothing from the server is bundled).
export type { ClusterNodeStatus, ClusterStatusView, NodeStatusView } from '../../../src/modules/metrics/status-view';
