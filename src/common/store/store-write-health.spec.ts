import { Logger } from '@nestjs/common';
import { isStorageFailure, StoreWriteHealth } from './store-write-health';

const sqliteError = (errcode: number, message: string) => Object.assign(new Error(message), { code: 'ERR_SQLITE_ERROR', errcode, errstr: message });

describe(StoreWriteHealth.name, () => {
  let errors: string[];
  let logs: string[];
  beforeEach(() => {
    errors = [];
    logs = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    jest.spyOn(Logger.prototype, 'log').mockImplementation((m: unknown) => void logs.push(String(m)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('logs a failing episode once, answers STORE_UNAVAILABLE every time, and logs the recovery once', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const sut = new StoreWriteHealth(() => new Date(now));
    for (let i = 0; i < 50; i++) expect(sut.writeFailed(sqliteError(13, 'database or disk is full')).code).toBe('STORE_UNAVAILABLE');
    expect(errors).toHaveLength(1);
    expect(sut.snapshot()).toEqual({ ok: false, error: 'database or disk is full', since: '2026-01-01T00:00:00.000Z', checkpointError: null });

    now += 4000;
    sut.writeSucceeded();
    sut.writeSucceeded();
    expect(logs).toEqual(['Store writes work again (after 4.0 s of failures)']);
    expect(sut.snapshot()).toEqual({ ok: true, error: null, since: null, checkpointError: null });
  });

  it('shows a failing WAL checkpoint as not ok, logged once', () => {
    const sut = new StoreWriteHealth();
    sut.checkpointFailed('disk I/O error');
    sut.checkpointFailed('disk I/O error');
    expect(errors).toHaveLength(1);
    expect(sut.snapshot()).toMatchObject({ ok: false, error: 'disk I/O error', checkpointError: 'disk I/O error' });
    sut.checkpointSucceeded();
    expect(sut.snapshot().ok).toBe(true);
  });

  it('probes while failing until a write works', () => {
    jest.useFakeTimers();
    try {
      const sut = new StoreWriteHealth();
      let probes = 0;
      sut.writeFailed(sqliteError(13, 'full'), () => {
        probes++;
        if (probes === 3) sut.writeSucceeded();
        else throw sqliteError(13, 'full');
      });
      jest.advanceTimersByTime(10_000);
      expect(probes).toBe(3);
      expect(sut.snapshot().ok).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('tells storage failures (full, I/O, read-only, cannot open) from other SQLite errors', () => {
    expect(isStorageFailure(sqliteError(13, 'full'))).toBe(true);
    expect(isStorageFailure(sqliteError(10 | (3 << 8), 'disk I/O error'))).toBe(true);
    expect(isStorageFailure(sqliteError(19, 'UNIQUE constraint failed'))).toBe(false);
    expect(isStorageFailure(new Error('plain'))).toBe(false);
  });
});
