import * as fs from 'node:fs';
import { ConfigError } from './config-error';
import type { ClientLimits, LogFormat, LogLevelName, NodeConfig } from './node-config';
import { isValidNodeId, parsePeerNodes } from './peer-nodes';
import { loadClientAuthSettings } from './client-auth-settings';

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
  const xmlrpcAddress = read('XMLRPC_ADDRESS', `http://${nodeId}:${xmlrpcPort}`);
  if (!/^https?:\/\/[^\s/]+(:\d+)?\/?$/i.test(xmlrpcAddress)) {
    throw new ConfigError('XMLRPC_ADDRESS', `must be a URL like http://host:port (got "${xmlrpcAddress}")`);
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
    peers: parsePeerNodes(read('PEER_NODES', ''), nodeId),
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
    deletePrepareTimeoutMs: seconds('DELETE_PREPARE_TIMEOUT', 30),
    ...loadLimits(read),
    // --- failover (issue 11) ---
    ...loadFailover(seconds('FAILOVER_TIMEOUT', 2, 0), seconds('PEER_CALL_TIMEOUT', 5)),
  };
}

// --- failover (issue 11) ------------------------------------------------------------------

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
  connectionsPerIp: 1000,
  roomsPerConnection: 200,
  roomsPerNode: 10000,
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
    connectionsPerIp: number('MAX_CONNECTIONS_PER_IP', d.connectionsPerIp, true),
    roomsPerConnection: number('MAX_ROOMS_PER_CONNECTION', d.roomsPerConnection, true),
    roomsPerNode: number('MAX_ROOMS_PER_NODE', d.roomsPerNode, true),
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
  const inline = env.PEER_SECRET?.trim() ?? '';
  const file = env.PEER_SECRET_FILE?.trim() ?? '';
  if (inline && file) throw new ConfigError('PEER_SECRET', 'and PEER_SECRET_FILE are both set; set only one of them');
  let secret = inline;
  let name = 'PEER_SECRET';
  if (file) {
    name = 'PEER_SECRET_FILE';
    try {
      secret = fs.readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new ConfigError(name, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}: ${file})`);
    }
    if (!secret) throw new ConfigError(name, `names an empty file (${file}); put the cluster secret in it`);
  }
  if (!secret) return null;
  if (secret.length < MIN_SECRET_LENGTH || /\s/.test(secret)) {
    throw new ConfigError(name, `must be at least ${MIN_SECRET_LENGTH} characters without spaces (e.g. openssl rand -hex 32)`);
  }
  return secret;
}
