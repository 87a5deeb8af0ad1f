import { HealthIndicatorService } from '@nestjs/terminus';
import { loadConfig } from '../../common/config/load-config';
import type { DiskSpace, DiskUsage } from '../../common/disk/disk-space';
import { DiskHealthIndicator } from './disk.health';

const MIB = 1024 * 1024;

describe(DiskHealthIndicator.name, () => {
  const disk = (usage: DiskUsage | Error) => ({
    read: () => {
      if (usage instanceof Error) throw usage;
      return usage;
    },
  }) as DiskSpace;
  const sut = (usage: DiskUsage | Error, env: Record<string, string> = {}) =>
    new DiskHealthIndicator(loadConfig({ DATA_DIR: '/data', ...env }), disk(usage), new HealthIndicatorService());

  it('shows the free and total bytes, and is not degraded above DISK_FREE_MIN_MB (512 by default)', () => {
    expect(sut({ path: '/data', freeBytes: 600 * MIB, totalBytes: 10_000 * MIB }).check().disk).toEqual({
      status: 'up',
      path: '/data',
      free_bytes: 600 * MIB,
      total_bytes: 10_000 * MIB,
      min_free_bytes: 512 * MIB,
      degraded: [],
    });
  });

  it('is degraded, saying how much is left and what to do, below the minimum', () => {
    const check = sut({ path: '/data', freeBytes: 3 * MIB, totalBytes: 8 * MIB }, { DISK_FREE_MIN_MB: '4' }).check().disk;
    expect(check.status).toBe('up'); // the node still serves: degraded, not down
    expect(check.degraded).toEqual(['disk space low: 3 MiB free of 8 MiB where DATA_DIR is (/data), below DISK_FREE_MIN_MB=4; free some space before writes fail']);
  });

  it('never degrades with DISK_FREE_MIN_MB=0, and says when the free space cannot be read', () => {
    expect(sut({ path: '/data', freeBytes: 0, totalBytes: 8 * MIB }, { DISK_FREE_MIN_MB: '0' }).check().disk.degraded).toEqual([]);
    expect(sut(new Error('ENOENT')).check().disk).toMatchObject({ status: 'up', error: 'cannot read the free space: ENOENT', degraded: [] });
  });
});
