/** Everything a node reads from its environment, parsed and validated once at boot. */
export type LogLevelName = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
export type LogFormat = 'text' | 'json';

export interface PeerAddress {
  readonly nodeId: string;
  /** Base URL of the peer's XML-RPC server, e.g. `http://node2:9090`. */
  readonly url: string;
}

export interface NodeConfig {
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

  // --- limits (issue 13: backpressure, rate and admission limits, history replay) ---
  /** Bytes a client socket may have queued before it is closed as too slow (4008); 0 = no limit. */
  readonly wsMaxBufferedBytes: number;
  /** Most messages replayed to a join that asks for no range (the whole room when it is shorter). */
  readonly historyReplayLimit: number;
  /** Per-connection and per-IP limits; every field 0 = that limit off, all 0 when RATE_LIMITS=off. */
  readonly limits: ClientLimits;
}

export interface ClientLimits {
  messagesPerSecond: number;
  messageBurst: number;
  roomOpsPerSecond: number;
  roomOpBurst: number;
  connectionsPerIp: number;
  roomsPerConnection: number;
  roomsPerNode: number;
}

export const NODE_CONFIG = Symbol('NODE_CONFIG');
