import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LogFormat, LogLevelName } from '../config/node-config';
import { ConfigError } from '../config/config-error';
import { REJECTION_REASONS } from '../errors/rejection-reasons';
import { inferLogFields, isFieldedMessage } from './log-fields';

/** Python-style level names (what operators set in LOG_LEVEL) mapped onto Nest's levels. */
const NEST_LEVELS: Record<LogLevelName, LogLevel[]> = {
  DEBUG: ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'],
  INFO: ['log', 'warn', 'error', 'fatal'],
  WARNING: ['warn', 'error', 'fatal'],
  ERROR: ['error', 'fatal'],
  CRITICAL: ['fatal'],
};
const LEVEL_NAMES: Record<LogLevel, string> = {
  verbose: 'DEBUG',
  debug: 'DEBUG',
  log: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export interface NodeLoggerOptions {
  nodeId: string;
  level: LogLevelName;
  format: LogFormat;
  /** Directory of the log file; null writes to stdout only. */
  dir: string | null;
  /** Peer ids named in messages become the `peer` field of JSON lines. */
  peerIds?: readonly string[];
}

const ERROR_CODES: ReadonlySet<string> = new Set(REJECTION_REASONS);

/**
 * The one logger of a node: filters by LOG_LEVEL, prints text or JSON lines to stdout and
 * appends the same lines to `<LOG_DIR>/<NODE_ID>.log`.
 */
export class NodeLogger extends ConsoleLogger {
  private readonly file: fs.WriteStream | null;
  private readonly peerIds: ReadonlySet<string>;

  constructor(private readonly settings: NodeLoggerOptions) {
    super({ logLevels: NEST_LEVELS[settings.level] });
    this.peerIds = new Set(settings.peerIds ?? []);
    this.file = settings.dir ? NodeLogger.openLogFile(settings.dir, settings.nodeId) : null;
  }

  /** Fails at boot (not in a crash loop later) when the directory cannot be created or written. */
  private static openLogFile(dir: string, nodeId: string): fs.WriteStream {
    const file = path.join(dir, `${nodeId}.log`);
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.appendFileSync(file, '');
    } catch (e) {
      throw new ConfigError('LOG_DIR', `"${dir}" cannot be used for the log file ${file}: ${(e as Error).message}`);
    }
    const stream = fs.createWriteStream(file, { flags: 'a' });
    stream.on('error', (err) => process.stderr.write(`log file ${file} failed: ${err.message}\n`));
    return stream;
  }

  protected override printMessages(messages: unknown[], context = '', logLevel: LogLevel = 'log'): void {
    for (const message of messages) {
      const line = this.formatLine(message, context, logLevel);
      (logLevel === 'error' || logLevel === 'fatal' ? process.stderr : process.stdout).write(line);
      this.file?.write(line);
    }
  }

  protected override printStackTrace(stack: string): void {
    if (!stack) return;
    const line = this.settings.format === 'json' ? JSON.stringify({ stack }) + '\n' : stack + '\n';
    process.stderr.write(line);
    this.file?.write(line);
  }

  private formatLine(message: unknown, context: string, logLevel: LogLevel): string {
    const fielded = isFieldedMessage(message) ? message : null;
    const text = fielded ? fielded.message : message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    const timestamp = new Date().toISOString();
    const level = LEVEL_NAMES[logLevel];
    if (this.settings.format === 'json') {
      const fields = { ...inferLogFields(text, this.peerIds, ERROR_CODES), ...fielded?.fields };
      return JSON.stringify({ timestamp, level, node_id: this.settings.nodeId, logger: context, message: text, ...fields }) + '\n';
    }
    return `${timestamp} - ${this.settings.nodeId} - ${context || 'chat-node'} - ${level} - ${text}\n`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.file ? this.file.end(resolve) : resolve()));
  }
}
