/** Everything a node reads from its environment, parsed and validated once at boot. */
export type LogLevelName = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
export type LogFormat = 'text' | 'json';
import type { AuthMode } from './client-auth-settings';
import type { PeerTls } from './peer-tls-settings';
import type { RetentionSettings } from './retention-settings';

export type { AuthMode, PeerTls };

export interface PeerAddress {
  readonly nodeId: string;
  /** Base URL of the peer's XML-RPC server, e.g. `http://node2:9090`. */
  readonly url: string;
}

export interface NodeConfig extends RetentionSettings {
  readonly nodeId: string;
  readonly websocketHost: string;
  readonly websocketPort: number;
  /** WebSocket URL browsers use to reach this node (CLIENT_URL), shown to other nodes' pages; null if unknown. */
  readonly clientUrl: string | null;
  readonly xmlrpcHost: string;
  readonly xmlrpcPort: number;
  /** URL peers use to reach this node (advertised as `node_address`). */
  readonly xmlrpcAddress: string;
  readonly peers: readonly PeerAddress[];
  readonly logLevel: LogLevelName;
  readonly logFormat: LogFormat;
  /** Directory for the log file; `null` logs to stdout only (LOG_DIR set to an empty string). */
  readonly logDir: string | null;
  readonly dataDir: string;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly maxHeartbeatFailures: number;
  readonly inactivityTimeoutMs: number;
  readonly cleanupIntervalMs: number;
  /** Timeout of every outgoing peer call other than heartbeats. */
  readonly peerCallTimeoutMs: number;
  /** Server keepalive: ping every interval, drop a client that has not answered by the next one. */
  readonly wsPingIntervalMs: number;
  // --- client trust (issue 12): AUTH_MODE, AUTH_SECRET / AUTH_SECRET_FILE, ALLOWED_ORIGINS ---
  /** open: anyone may pick a name that no live connection holds; token: a signed JWT names the user. */
  readonly authMode: AuthMode;
  /** HS256 key for client tokens; null in open mode without a secret. */
  readonly authSecret: string | null;
  /** Browser origins allowed to open a WebSocket; null = any. Clients sending no Origin are always allowed. */
  readonly allowedOrigins: readonly string[] | null;
  // --- metrics (issue 14) ---
  /** METRICS_PORT: a second HTTP port serving only GET /metrics; null (0 or unset) = only the client port serves it. */
  readonly metricsPort: number | null;
  // --- peer trust (issue 12) ---
  /** Cluster secret that signs every XML-RPC call between nodes (PEER_SECRET / PEER_SECRET_FILE); null = unsigned. */
  readonly peerSecret: string | null;
  /** TLS for the XML-RPC server and the calls to peers (PEER_TLS_CERT, _KEY, _CA); null = plain HTTP. */
  readonly peerTls: PeerTls | null;
  /** Open connections the XML-RPC port keeps at most; beyond it a new one evicts the oldest not yet proven to be a peer. */
  readonly xmlrpcMaxConnections: number;
  /** Bearer token that shows /health details to callers off the loopback interface (HEALTH_TOKEN); null = loopback only. */
  readonly healthToken: string | null;
  /** Free bytes on DATA_DIR's file system below which /health is degraded (DISK_FREE_MIN_MB); 0 = never. */
  readonly diskFreeMinBytes: number;
  /** A prepared deletion with no commit or rollback from its host by then is rolled back here. */
  readonly deletePrepareTimeoutMs: number;

  // --- limits (issue 13: backpressure, rate and admission limits, history replay) ---
  /** Bytes a client socket may have queued before it is closed as too slow (4008); 0 = no limit. */
  readonly wsMaxBufferedBytes: number;
  /** Most messages replayed to a join that asks for no range (the whole room when it is shorter). */
  readonly historyReplayLimit: number;
  /** Per-connection and per-IP limits; every field 0 = that limit off, all 0 when RATE_LIMITS=off. */
  readonly limits: ClientLimits;

  // --- failover (issue 11) ---
  /** A room's host silent this long is replaced by a majority-elected one (FAILOVER_TIMEOUT); 0 = never. */
  readonly failoverTimeoutMs: number;
  /** How long a host waits for a majority to store a change before the client is told to retry. */
  readonly quorumTimeoutMs: number;
}

export interface ClientLimits {
  messagesPerSecond: number;
  messageBurst: number;
  roomOpsPerSecond: number;
  roomOpBurst: number;
  /** Per connection: get_history, discover_rooms, leave_room and delete_room together. */
  requestsPerSecond: number;
  requestBurst: number;
  /** Per client address, over all its connections: send_message, and create_room + join_room. */
  ipMessagesPerSecond: number;
  ipMessageBurst: number;
  ipRoomOpsPerSecond: number;
  ipRoomOpBurst: number;
  connectionsPerIp: number;
  roomsPerConnection: number;
  roomsPerNode: number;
  /** Rooms created through this node from one address that still exist. */
  roomsPerIp: number;
  /** Token mode: rooms in the cluster created by one user that still exist. */
  roomsPerUser: number;
}

export const NODE_CONFIG = Symbol('NODE_CONFIG');
