import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../config/config-error';
import { logFields } from './log-fields';
import { NodeLogger, type NodeLoggerOptions } from './node-logger';

describe(NodeLogger.name, () => {
  let stdout: string[];
  let stderr: string[];
  let tmp: string;
  let sut: NodeLogger;
  const opened: NodeLogger[] = [];

  beforeEach(() => {
    stdout = [];
    stderr = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (stdout.push(String(chunk)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-logger-'));
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((logger) => logger.close()));
    jest.restoreAllMocks();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const create = (over: Partial<NodeLoggerOptions> = {}) => {
    sut = new NodeLogger({ nodeId: 'node1', level: 'INFO', format: 'json', dir: null, ...over });
    opened.push(sut);
  };
  const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  describe('level filtering', () => {
    it('INFO shows log, warn and error but hides debug and verbose', () => {
      create({ level: 'INFO' });

      sut.debug('hidden debug', 'Ctx');
      sut.verbose('hidden verbose', 'Ctx');
      sut.log('shown log', 'Ctx');
      sut.warn('shown warn', 'Ctx');
      sut.error('shown error', undefined, 'Ctx');

      expect(parsed([...stdout, ...stderr]).map((l) => l.message)).toEqual(['shown log', 'shown warn', 'shown error']);
    });

    it('WARNING hides log', () => {
      create({ level: 'WARNING' });

      sut.log('hidden', 'Ctx');
      sut.warn('shown', 'Ctx');

      expect(parsed(stdout).map((l) => l.message)).toEqual(['shown']);
    });

    it('DEBUG shows debug', () => {
      create({ level: 'DEBUG' });
      sut.debug('shown', 'Ctx');
      expect(parsed(stdout).map((l) => l.level)).toEqual(['DEBUG']);
    });
  });

  describe('JSON format', () => {
    it('writes one parseable line per message with level, node_id, logger and message', () => {
      create({ format: 'json', nodeId: 'node7' });

      sut.log('room created', 'RoomHostService');
      sut.warn('peer slow', 'PeerDirectory');

      expect(stdout.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
      const [info, warning] = parsed(stdout);
      expect(info).toMatchObject({ level: 'INFO', node_id: 'node7', logger: 'RoomHostService', message: 'room created' });
      expect(warning).toMatchObject({ level: 'WARNING', node_id: 'node7', logger: 'PeerDirectory', message: 'peer slow' });
      expect(Date.parse(info.timestamp as string)).not.toBeNaN();
    });

    it('writes errors to stderr with level ERROR', () => {
      create();
      sut.error('store failed', undefined, 'ChatStore');

      expect(stdout).toEqual([]);
      expect(parsed(stderr)[0]).toMatchObject({ level: 'ERROR', logger: 'ChatStore', message: 'store failed' });
    });

    it('keeps a message with a newline on one line', () => {
      create();
      sut.log('two\nlines', 'Ctx');
      expect(stdout).toHaveLength(1);
      expect(parsed(stdout)[0].message).toBe('two\nlines');
    });

    it('adds room_id, peer and error_code: given explicitly, or found in the message', () => {
      create({ peerIds: ['node2'] });
      const room = '3f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f';
      sut.warn(`Could not remove bob from room ${room} at node2: timeout`, 'ChatService');
      sut.log(logFields('join_room refused: RATE_LIMITED', { error_code: 'RATE_LIMITED', room_id: room }), 'ChatRequests');
      sut.log('Stale member cleanup finished', 'Cleanup');
      const [peerLine, refused, plain] = parsed(stdout);
      expect(peerLine).toMatchObject({ room_id: room, peer: 'node2', message: `Could not remove bob from room ${room} at node2: timeout` });
      expect(refused).toMatchObject({ error_code: 'RATE_LIMITED', room_id: room, message: 'join_room refused: RATE_LIMITED' });
      expect(Object.keys(plain)).toEqual(['timestamp', 'level', 'node_id', 'logger', 'message']);
    });
  });

  it('text format prints only the message of a line with fields', () => {
    create({ format: 'text' });
    sut.log(logFields('join_room refused: RATE_LIMITED', { error_code: 'RATE_LIMITED' }), 'ChatRequests');
    expect(stdout[0]).toMatch(/ - node1 - ChatRequests - INFO - join_room refused: RATE_LIMITED\n$/);
  });

  it('text format reads "<time> - <node> - <logger> - <LEVEL> - <message>"', () => {
    create({ format: 'text' });
    sut.warn('peer slow', 'PeerDirectory');
    expect(stdout[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z - node1 - PeerDirectory - WARNING - peer slow\n$/);
  });

  describe('log file', () => {
    it('receives the same lines as the console, in <LOG_DIR>/<NODE_ID>.log', async () => {
      const dir = path.join(tmp, 'logs', 'nested');
      create({ dir, nodeId: 'node3' });

      sut.log('first', 'Ctx');
      sut.warn('second', 'Ctx');
      sut.error('third', undefined, 'Ctx');
      sut.debug('hidden', 'Ctx');
      await sut.close();

      const file = fs.readFileSync(path.join(dir, 'node3.log'), 'utf8');
      expect(file).toBe([stdout[0], stdout[1], stderr[0]].join(''));
      expect(parsed(file.trimEnd().split('\n')).map((l) => l.message)).toEqual(['first', 'second', 'third']);
    });

    it('appends to an existing file instead of truncating it', async () => {
      fs.writeFileSync(path.join(tmp, 'node1.log'), 'earlier line\n');
      create({ dir: tmp });

      sut.log('later', 'Ctx');
      await sut.close();

      const lines = fs.readFileSync(path.join(tmp, 'node1.log'), 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe('earlier line');
      expect(JSON.parse(lines[1]).message).toBe('later');
    });

    it('an unusable directory fails at construction with a ConfigError naming LOG_DIR', () => {
      const notADir = path.join(tmp, 'plain-file');
      fs.writeFileSync(notADir, '');

      let error: unknown;
      try {
        new NodeLogger({ nodeId: 'node1', level: 'INFO', format: 'json', dir: path.join(notADir, 'logs') });
      } catch (e) {
        error = e;
      }

      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('LOG_DIR');
      expect((error as Error).message).toContain('LOG_DIR');
      expect((error as Error).message).toContain(notADir);
    });
  });
});
