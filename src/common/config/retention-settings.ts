import { ConfigError } from './config-error';

type Env = Record<string, string | undefined>;

export interface RetentionSettings {
  /** Messages older than this many days are removed (RETENTION_DAYS); 0 = kept however old. */
  readonly retentionDays: number;
  /** At most this many newest messages are kept per room (MAX_MESSAGES_PER_ROOM); 0 = no limit. */
  readonly maxMessagesPerRoom: number;
  /** How often a room's host checks its rooms against the two limits above (RETENTION_INTERVAL). */
  readonly retentionIntervalMs: number;
}

/** A hundred years: more is a typo, and would take the cut-off date out of range. */
const MAX_DAYS = 36500;

/** Retention is off unless RETENTION_DAYS or MAX_MESSAGES_PER_ROOM says otherwise. */
export function loadRetention(env: Env): RetentionSettings {
  const raw = (name: string, fallback: string) => env[name]?.trim() ?? fallback;

  const days = raw('RETENTION_DAYS', '0');
  if (!/^\d+(\.\d+)?$/.test(days) || Number(days) > MAX_DAYS) {
    throw new ConfigError('RETENTION_DAYS', `must be a number of days from 0 to ${MAX_DAYS} (decimals allowed; 0 turns it off) (got "${days}")`);
  }
  const max = raw('MAX_MESSAGES_PER_ROOM', '0');
  if (!/^\d+$/.test(max) || !Number.isSafeInteger(Number(max))) {
    throw new ConfigError('MAX_MESSAGES_PER_ROOM', `must be a whole number >= 0 (0 turns it off) (got "${max}")`);
  }
  const interval = raw('RETENTION_INTERVAL', '60');
  if (!/^\d+(\.\d+)?$/.test(interval) || Number(interval) < 0.1 || Number(interval) > 86400) {
    throw new ConfigError('RETENTION_INTERVAL', `must be a number of seconds from 0.1 to 86400 (got "${interval}")`);
  }
  return { retentionDays: Number(days), maxMessagesPerRoom: Number(max), retentionIntervalMs: Math.round(Number(interval) * 1000) };
}
