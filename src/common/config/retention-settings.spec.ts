import { ConfigError } from './config-error';
import { loadConfig } from './load-config';

describe('retention settings', () => {
  it('are off by default (no age limit, no count limit), checked every 60 s when on', () => {
    expect(loadConfig({})).toMatchObject({ retentionDays: 0, maxMessagesPerRoom: 0, retentionIntervalMs: 60000 });
  });

  it('read RETENTION_DAYS (decimals allowed), MAX_MESSAGES_PER_ROOM and RETENTION_INTERVAL (seconds)', () => {
    expect(loadConfig({ RETENTION_DAYS: '30', MAX_MESSAGES_PER_ROOM: '10000', RETENTION_INTERVAL: '0.5' })).toMatchObject({ retentionDays: 30, maxMessagesPerRoom: 10000, retentionIntervalMs: 500 });
    expect(loadConfig({ RETENTION_DAYS: ' 0.25 ' }).retentionDays).toBe(0.25);
  });

  it.each([
    ['RETENTION_DAYS', '-1'],
    ['RETENTION_DAYS', 'a week'],
    ['RETENTION_DAYS', '1e3'],
    ['RETENTION_DAYS', '40000'],
    ['MAX_MESSAGES_PER_ROOM', '10.5'],
    ['MAX_MESSAGES_PER_ROOM', '-5'],
    ['MAX_MESSAGES_PER_ROOM', 'lots'],
    ['MAX_MESSAGES_PER_ROOM', '99999999999999999999'],
    ['RETENTION_INTERVAL', '0'],
    ['RETENTION_INTERVAL', '0.01'],
    ['RETENTION_INTERVAL', 'hourly'],
  ])('refuse %s=%s at start, naming the variable', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toContain(`${variable} must be`);
  });
});
