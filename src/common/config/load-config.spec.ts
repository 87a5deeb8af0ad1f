import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Test } from '@nestjs/testing';
import { ConfigError } from './config-error';
import { loadConfig } from './load-config';
import { ConfigModule } from './config.module';
import { NODE_CONFIG } from './node-config';

describe(loadConfig.name, () => {
  it('uses the reference defaults when nothing is set', () => {
    const sut = loadConfig({});
    expect(sut).toMatchObject({
      nodeId: 'node1',
      websocketHost: '0.0.0.0',
      websocketPort: 8080,
      xmlrpcPort: 9090,
      xmlrpcAddress: 'http://node1:9090',
      peers: [],
      logLevel: 'INFO',
      heartbeatIntervalMs: 30000,
      heartbeatTimeoutMs: 2000,
      maxHeartbeatFailures: 2,
      inactivityTimeoutMs: 900000,
      cleanupIntervalMs: 60000,
    });
  });

  it('advertises a client URL only when it knows one: CLIENT_URL, else a specific WEBSOCKET_HOST', () => {
    expect(loadConfig({}).clientUrl).toBeNull();
    expect(loadConfig({ WEBSOCKET_HOST: '127.0.0.1', WEBSOCKET_PORT: '8081' }).clientUrl).toBe('ws://127.0.0.1:8081/');
    expect(loadConfig({ WEBSOCKET_HOST: '::1' }).clientUrl).toBe('ws://[::1]:8080/');
    expect(loadConfig({ CLIENT_URL: 'wss://chat.example.com/' }).clientUrl).toBe('wss://chat.example.com/');
  });

  it('is in open mode, with no token secret and any origin, unless told otherwise', () => {
    expect(loadConfig({})).toMatchObject({ authMode: 'open', authSecret: null, allowedOrigins: null });
    expect(() => loadConfig({ AUTH_MODE: 'token' })).toThrow(/AUTH_SECRET must be set/);
  });

  it('serves metrics on a second port only when METRICS_PORT is a port (0 or unset = off)', () => {
    expect(loadConfig({}).metricsPort).toBeNull();
    expect(loadConfig({ METRICS_PORT: '0' }).metricsPort).toBeNull();
    expect(loadConfig({ METRICS_PORT: '9100' }).metricsPort).toBe(9100);
  });

  it('accepts decimal seconds for CLEANUP_INTERVAL', () => {
    expect(loadConfig({ CLEANUP_INTERVAL: '0.5' }).cleanupIntervalMs).toBe(500);
  });

  it.each([
    ['WEBSOCKET_PORT', 'abc'],
    ['XMLRPC_PORT', '70000'],
    ['LOG_LEVEL', 'VERBOSE'],
    ['LOG_FORMAT', 'xml'],
    ['CLEANUP_INTERVAL', '-1'],
    ['HEARTBEAT_INTERVAL', 'soon'],
    ['MAX_HEARTBEAT_FAILURES', '0'],
    ['NODE_ID', 'bad id'],
    ['PEER_NODES', 'node2'],
    ['PEER_NODES', 'node2:http://'],
    ['PEER_NODES', 'node2:host'],
    ['CLIENT_URL', 'http://chat.example.com/'],
    // client trust (issue 12)
    ['AUTH_MODE', 'jwt'],
    ['AUTH_SECRET', 'too-short'],
    ['ALLOWED_ORIGINS', 'example.com'],
    // metrics (issue 14)
    ['METRICS_PORT', '70000'],
    ['METRICS_PORT', 'x'],
  ])('refuses %s=%s and names the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      expect((e as ConfigError).variable).toBe(variable);
      expect((e as Error).message).toContain(variable);
    }
  });

  it('parses both PEER_NODES forms and ignores its own id', () => {
    const sut = loadConfig({
      NODE_ID: 'node1',
      PEER_NODES: 'node1:http://node1:9090, node2:http://node2:9090,node3:10.0.0.3:9091',
    });
    expect(sut.peers).toEqual([
      { nodeId: 'node2', url: 'http://node2:9090' },
      { nodeId: 'node3', url: 'http://10.0.0.3:9091' },
    ]);
  });

  // --- limits (issue 13) ---
  describe('limits', () => {
    it('defaults to limits a person chatting never reaches (at least burst 50 and 10 msg/s, 1000 connections per IP)', () => {
      const sut = loadConfig({});
      expect(sut.limits.messageBurst).toBeGreaterThanOrEqual(50);
      expect(sut.limits.messagesPerSecond).toBeGreaterThanOrEqual(10);
      expect(sut.limits.connectionsPerIp).toBeGreaterThanOrEqual(1000);
      expect(sut.wsMaxBufferedBytes).toBe(4 * 1024 * 1024);
      expect(sut.historyReplayLimit).toBe(10000);
    });

    it('reads each limit, 0 turning one off; RATE_LIMITS=off turns them all off', () => {
      const sut = loadConfig({ RATE_LIMIT_MESSAGES_PER_SECOND: '2.5', RATE_LIMIT_MESSAGE_BURST: '0', MAX_CONNECTIONS_PER_IP: '7', WS_MAX_BUFFERED_BYTES: '0' });
      expect(sut.limits).toMatchObject({ messagesPerSecond: 2.5, messageBurst: 0, connectionsPerIp: 7 });
      expect(sut.wsMaxBufferedBytes).toBe(0);
      expect(Object.values(loadConfig({ RATE_LIMITS: 'OFF', MAX_ROOMS_PER_NODE: '5' }).limits).every((v) => v === 0)).toBe(true);
    });

    it.each([
      ['RATE_LIMITS', 'maybe'],
      ['RATE_LIMIT_MESSAGES_PER_SECOND', '-1'],
      ['RATE_LIMIT_MESSAGE_BURST', '1.5'],
      ['RATE_LIMIT_ROOM_OPS_PER_SECOND', 'fast'],
      ['RATE_LIMIT_ROOM_OP_BURST', ''],
      ['MAX_CONNECTIONS_PER_IP', 'many'],
      ['MAX_ROOMS_PER_CONNECTION', '-3'],
      ['MAX_ROOMS_PER_NODE', '1e4'],
      ['WS_MAX_BUFFERED_BYTES', '4MiB'],
      ['HISTORY_REPLAY_LIMIT', '0'],
    ])('refuses %s=%j and names the variable', (variable, value) => {
      expect(() => loadConfig({ [variable]: value })).toThrow(expect.objectContaining({ variable }));
    });
  });

  it('is injectable through ConfigModule', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(loadConfig({ NODE_ID: 'x' }))] }).compile();
    expect(moduleRef.get(NODE_CONFIG).nodeId).toBe('x');
  });

  describe('peer trust settings', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peer-secret-'));
    const file = (name: string, text: string) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      return p;
    };
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('has no secret and a 30 s prepare timeout by default; an empty PEER_SECRET is unset', () => {
      expect(loadConfig({})).toMatchObject({ peerSecret: null, deletePrepareTimeoutMs: 30_000 });
      expect(loadConfig({ PEER_SECRET: '' }).peerSecret).toBeNull();
    });

    it('shows /health details off loopback only with HEALTH_TOKEN (inline or a file), and degrades below 512 MiB free by default', () => {
      expect(loadConfig({})).toMatchObject({ healthToken: null, diskFreeMinBytes: 512 * 1024 * 1024, xmlrpcMaxConnections: 256 });
      expect(loadConfig({ HEALTH_TOKEN_FILE: file('token', 'operators-only-0123\n') }).healthToken).toBe('operators-only-0123');
      expect(loadConfig({ DISK_FREE_MIN_MB: '0' }).diskFreeMinBytes).toBe(0);
    });

    it('reads PEER_SECRET, or PEER_SECRET_FILE trimmed (a Docker secret ends in a newline)', () => {
      expect(loadConfig({ PEER_SECRET: ' 0123456789abcdef0123 ' }).peerSecret).toBe('0123456789abcdef0123');
      expect(loadConfig({ PEER_SECRET_FILE: file('ok', 'fedcba9876543210fedcba\n') }).peerSecret).toBe('fedcba9876543210fedcba');
      expect(loadConfig({ DELETE_PREPARE_TIMEOUT: '1.5' }).deletePrepareTimeoutMs).toBe(1500);
    });

    it.each([
      ['both set', { PEER_SECRET: '0123456789abcdef0123', PEER_SECRET_FILE: '/dev/null' }, 'PEER_SECRET', /PEER_SECRET_FILE are both set/],
      ['an empty file', { PEER_SECRET_FILE: 'EMPTY' }, 'PEER_SECRET_FILE', /empty file/],
      ['a missing file', { PEER_SECRET_FILE: '/no/such/secret' }, 'PEER_SECRET_FILE', /cannot be read \(ENOENT/],
      ['a short secret', { PEER_SECRET: 'short' }, 'PEER_SECRET', /at least 16 characters/],
      ['a bad timeout', { DELETE_PREPARE_TIMEOUT: 'never' }, 'DELETE_PREPARE_TIMEOUT', /seconds/],
      ['a short HEALTH_TOKEN', { HEALTH_TOKEN: 'short' }, 'HEALTH_TOKEN', /at least 16 characters/],
      ['HEALTH_TOKEN equal to the cluster secret', { PEER_SECRET: '0123456789abcdef0123', HEALTH_TOKEN: '0123456789abcdef0123' }, 'HEALTH_TOKEN', /must differ from PEER_SECRET/],
      ['a missing HEALTH_TOKEN_FILE', { HEALTH_TOKEN_FILE: '/no/such/token' }, 'HEALTH_TOKEN_FILE', /cannot be read/],
      ['a negative DISK_FREE_MIN_MB', { DISK_FREE_MIN_MB: '-1' }, 'DISK_FREE_MIN_MB', /whole number >= 0/],
      ['too few XML-RPC connections', { XMLRPC_MAX_CONNECTIONS: '2' }, 'XMLRPC_MAX_CONNECTIONS', /whole number >= 8/],
    ])('refuses %s, naming the variable', (_what, env, variable, problem) => {
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === 'EMPTY' ? file('empty', ' \n') : v]));
      let error: unknown;
      try {
        loadConfig(resolved);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as Error).message).toMatch(problem);
    });
  });
});
