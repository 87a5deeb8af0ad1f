import { ConfigError } from './config-error';
import type { ClientLimits, LogFormat, LogLevelName, NodeConfig } from './node-config';
import { isValidNodeId, parsePeerNodes } from './peer-nodes';
import { loadClientAuthSettings } from './client-auth-settings';
import { readSecretSetting } from './secret-setting';
import { loadPeerTls } from './peer-tls-settings';
import { loadRetention } from './retention-settings';

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevelName[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

/** Reads and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): NodeConfig {
  const read = (name: string, fallback: string) => {
    const value = env[name];
    return value === undefined ? fallback : value.trim();
  };
  const port = (name: string, fallback: number) => {
    const raw = read(name, String(fallback));
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < 1 || value > 65535) {
      throw new ConfigError(name, `must be a port number 1-65535 (got "${raw}")`);
    }
    return value;
  };
  const seconds = (name: string, fallback: number, min = 0.001) => {
    const raw = read(name, String(fallback));
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || value < min) {
      throw new ConfigError(name, `must be a number of seconds >= ${min} (got "${raw}")`);
    }
    return Math.round(value * 1000);
  };
  const host = (name: string) => {
    const value = read(name, '0.0.0.0');
    if (value === '' || /\s/.test(value)) throw new ConfigError(name, `must be a host name or address (got "${value}")`);
    return value;
  };

  const nodeId = read('NODE_ID', 'node1');
  if (!isValidNodeId(nodeId)) {
    throw new ConfigError('NODE_ID', `must be 1-64 letters, digits, "_", "." or "-" (got "${nodeId}")`);
  }
  const xmlrpcPort = port('XMLRPC_PORT', 9090);
  const peerTls = loadPeerTls(env);
  const scheme = peerTls ? 'https' : 'http';
  const xmlrpcAddress = read('XMLRPC_ADDRESS', `${scheme}://${nodeId}:${xmlrpcPort}`);
  if (!new RegExp(`^${scheme}:\\/\\/[^\\s/]+(:\\d+)?\\/?$`, 'i').test(xmlrpcAddress)) {
    throw new ConfigError('XMLRPC_ADDRESS', `must be a URL like ${scheme}://host:port${peerTls ? ' (PEER_TLS_* is set)' : ''} (got "${xmlrpcAddress}")`);
  }
  const logLevel = read('LOG_LEVEL', 'INFO').toUpperCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevelName)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const logFormat = read('LOG_FORMAT', 'text').toLowerCase();
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new ConfigError('LOG_FORMAT', `must be text or json (got "${logFormat}")`);
  }
  const maxFailuresRaw = read('MAX_HEARTBEAT_FAILURES', '2');
  if (!/^\d+$/.test(maxFailuresRaw) || Number(maxFailuresRaw) < 1) {
    throw new ConfigError('MAX_HEARTBEAT_FAILURES', `must be a whole number >= 1 (got "${maxFailuresRaw}")`);
  }
  const websocketHost = host('WEBSOCKET_HOST');
  const websocketPort = port('WEBSOCKET_PORT', 8080);
  const clientUrl = read('CLIENT_URL', '') || defaultClientUrl(websocketHost, websocketPort);
  if (clientUrl !== null && !/^wss?:\/\/[^\s/]+(\/\S*)?$/i.test(clientUrl)) {
    throw new ConfigError('CLIENT_URL', `must be a WebSocket URL like ws://host:port/ (got "${clientUrl}")`);
  }
  const dataDir = read('DATA_DIR', './.data/' + nodeId);
  if (dataDir === '') throw new ConfigError('DATA_DIR', 'must be a directory path');

  return {
    nodeId,
    websocketHost,
    websocketPort,
    clientUrl,
    xmlrpcHost: host('XMLRPC_HOST'),
    xmlrpcPort,
    xmlrpcAddress: xmlrpcAddress.replace(/\/$/, ''),
    peers: parsePeerNodes(read('PEER_NODES', ''), nodeId, peerTls !== null),
    logLevel: logLevel as LogLevelName,
    logFormat: logFormat as LogFormat,
    logDir: env.LOG_DIR === undefined ? './logs' : env.LOG_DIR.trim() || null,
    dataDir,
    heartbeatIntervalMs: seconds('HEARTBEAT_INTERVAL', 30),
    heartbeatTimeoutMs: seconds('HEARTBEAT_TIMEOUT', 2),
    maxHeartbeatFailures: Number(maxFailuresRaw),
    inactivityTimeoutMs: seconds('INACTIVITY_TIMEOUT', 900),
    cleanupIntervalMs: seconds('CLEANUP_INTERVAL', 60),
    peerCallTimeoutMs: seconds('PEER_CALL_TIMEOUT', 5),
    wsPingIntervalMs: seconds('WS_PING_INTERVAL', 20),
    // --- client trust (issue 12) ---
    ...loadClientAuthSettings(env),
    // --- metrics (issue 14) ---
    metricsPort: optionalPort(read('METRICS_PORT', '0'), 'METRICS_PORT'),
    // --- peer trust (issue 12) ---
    peerSecret: peerSecret(env),
    peerTls,
    xmlrpcMaxConnections: wholeNumber(read, 'XMLRPC_MAX_CONNECTIONS', 256, 8),
    deletePrepareTimeoutMs: seconds('DELETE_PREPARE_TIMEOUT', 30),
    ...loadOperatorAccess(env, read),
    ...loadLimits(read),
    ...loadRetention(env),
    // --- failover (issue 11) ---
    ...loadFailover(seconds('FAILOVER_TIMEOUT', 2, 0), seconds('PEER_CALL_TIMEOUT', 5)),
  };
}

/** /health details for operators: HEALTH_TOKEN (never the cluster secret), and the free space that makes it degraded. */
function loadOperatorAccess(env: Env, read: (name: string, fallback: string) => string): Pick<NodeConfig, 'healthToken' | 'diskFreeMinBytes'> {
  const healthToken = readSecretSetting(env, 'HEALTH_TOKEN', MIN_SECRET_LENGTH);
  if (healthToken !== null && healthToken === peerSecret(env)) {
    throw new ConfigError('HEALTH_TOKEN', 'must differ from PEER_SECRET: whoever reads /health must not be able to sign peer calls');
  }
  return { healthToken, diskFreeMinBytes: wholeNumber(read, 'DISK_FREE_MIN_MB', 512, 0) * 1024 * 1024 };
}

function wholeNumber(read: (name: string, fallback: string) => string, name: string, fallback: number, min: number): number {
  const raw = read(name, String(fallback));
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new ConfigError(name, `must be a whole number >= ${min}${min === 0 ? ' (0 turns it off)' : ''} (got "${raw}")`);
  return Number(raw);
}

// --- failover ------------------------------------------------------------------------------

/**
 * A majority that has not stored a change within twice the failover timeout (at least the peer
 * call timeout and 2 s) is not coming soon: the client is told to retry. Without failover, the
 * peer call timeout.
 */
function loadFailover(failoverTimeoutMs: number, peerCallTimeoutMs: number): Pick<NodeConfig, 'failoverTimeoutMs' | 'quorumTimeoutMs'> {
  return { failoverTimeoutMs, quorumTimeoutMs: failoverTimeoutMs > 0 ? Math.max(2 * failoverTimeoutMs, peerCallTimeoutMs, 2000) : peerCallTimeoutMs };
}

// --- limits (issue 13) ---------------------------------------------------------------------

/** Defaults a person chatting never reaches and a flooding script always does (README, Configuration). */
export const DEFAULT_LIMITS: ClientLimits = {
  messagesPerSecond: 20,
  messageBurst: 500,
  roomOpsPerSecond: 5,
  roomOpBurst: 30,
  requestsPerSecond: 10,
  requestBurst: 100,
  ipMessagesPerSecond: 200,
  ipMessageBurst: 5000,
  ipRoomOpsPerSecond: 50,
  ipRoomOpBurst: 300,
  connectionsPerIp: 1000,
  roomsPerConnection: 200,
  roomsPerNode: 10000,
  roomsPerIp: 500,
  roomsPerUser: 100,
};

function loadLimits(read: (name: string, fallback: string) => string): Pick<NodeConfig, 'wsMaxBufferedBytes' | 'historyReplayLimit' | 'limits'> {
  const number = (name: string, fallback: number, whole: boolean, min = 0) => {
    const raw = read(name, String(fallback));
    const value = Number(raw);
    const shape = whole ? /^\d+$/ : /^\d+(\.\d+)?$/;
    if (!shape.test(raw) || !Number.isFinite(value) || value < min) {
      throw new ConfigError(name, `must be a ${whole ? 'whole number' : 'number'} >= ${min}${min === 0 ? ' (0 turns it off)' : ''} (got "${raw}")`);
    }
    return value;
  };
  const switchRaw = read('RATE_LIMITS', 'on').toLowerCase();
  if (switchRaw !== 'on' && switchRaw !== 'off') throw new ConfigError('RATE_LIMITS', `must be on or off (got "${switchRaw}")`);
  const d = DEFAULT_LIMITS;
  const limits: ClientLimits = {
    messagesPerSecond: number('RATE_LIMIT_MESSAGES_PER_SECOND', d.messagesPerSecond, false),
    messageBurst: number('RATE_LIMIT_MESSAGE_BURST', d.messageBurst, true),
    roomOpsPerSecond: number('RATE_LIMIT_ROOM_OPS_PER_SECOND', d.roomOpsPerSecond, false),
    roomOpBurst: number('RATE_LIMIT_ROOM_OP_BURST', d.roomOpBurst, true),
    requestsPerSecond: number('RATE_LIMIT_REQUESTS_PER_SECOND', d.requestsPerSecond, false),
    requestBurst: number('RATE_LIMIT_REQUEST_BURST', d.requestBurst, true),
    ipMessagesPerSecond: number('RATE_LIMIT_IP_MESSAGES_PER_SECOND', d.ipMessagesPerSecond, false),
    ipMessageBurst: number('RATE_LIMIT_IP_MESSAGE_BURST', d.ipMessageBurst, true),
    ipRoomOpsPerSecond: number('RATE_LIMIT_IP_ROOM_OPS_PER_SECOND', d.ipRoomOpsPerSecond, false),
    ipRoomOpBurst: number('RATE_LIMIT_IP_ROOM_OP_BURST', d.ipRoomOpBurst, true),
    connectionsPerIp: number('MAX_CONNECTIONS_PER_IP', d.connectionsPerIp, true),
    roomsPerConnection: number('MAX_ROOMS_PER_CONNECTION', d.roomsPerConnection, true),
    roomsPerNode: number('MAX_ROOMS_PER_NODE', d.roomsPerNode, true),
    roomsPerIp: number('MAX_ROOMS_PER_IP', d.roomsPerIp, true),
    roomsPerUser: number('MAX_ROOMS_PER_USER', d.roomsPerUser, true),
  };
  const off = Object.fromEntries(Object.keys(limits).map((k) => [k, 0])) as unknown as ClientLimits;
  return {
    wsMaxBufferedBytes: number('WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, true),
    historyReplayLimit: number('HISTORY_REPLAY_LIMIT', 10000, true, 1),
    limits: switchRaw === 'off' ? off : limits,
  };
}

/** A port that may be switched off with 0 (or left unset). */
function optionalPort(raw: string, name: string): number | null {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 65535) throw new ConfigError(name, `must be 0 (off) or a port number 1-65535 (got "${raw}")`);
  return value === 0 ? null : value;
}

/**
 * Where browsers reach this node, when the listen address says it: a specific WEBSOCKET_HOST is
 * that address; a wildcard (0.0.0.0, ::) says nothing about the outside, so it stays unknown.
 */
function defaultClientUrl(host: string, port: number): string | null {
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return null;
  return `ws://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}/`;
}

const MIN_SECRET_LENGTH = 16;

/** PEER_SECRET, or the trimmed contents of PEER_SECRET_FILE (a Docker secret); null when neither is set. */
function peerSecret(env: Env): string | null {
  return readSecretSetting(env, 'PEER_SECRET', MIN_SECRET_LENGTH);
}
