import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { DiskSpace } from '../../common/disk/disk-space';

const MIB = 1024 * 1024;

/**
 * Free space where DATA_DIR lives, so a filling disk shows before writes fail: below
 * DISK_FREE_MIN_MB the node is degraded (200, with the reason); a full disk is the store's 503.
 */
@Injectable()
export class DiskHealthIndicator {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly disk: DiskSpace,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const session = this.health.check('disk');
    const min = this.config.diskFreeMinBytes;
    try {
      const u = this.disk.read();
      const low = min > 0 && u.freeBytes < min;
      const degraded = low ? [`disk space low: ${mib(u.freeBytes)} MiB free of ${mib(u.totalBytes)} MiB where DATA_DIR is (${u.path}), below DISK_FREE_MIN_MB=${mib(min)}; free some space before writes fail`] : [];
      return session.up({ path: u.path, free_bytes: u.freeBytes, total_bytes: u.totalBytes, min_free_bytes: min, degraded });
    } catch (e) {
      // not knowing the free space is no reason to stop serving: the store's own check says whether writes work
      return session.up({ path: this.config.dataDir, error: `cannot read the free space: ${(e as Error).message}`, degraded: [] });
    }
  }
}

const mib = (bytes: number) => Math.floor(bytes / MIB);
