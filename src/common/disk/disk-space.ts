import { Global, Inject, Injectable, Module } from '@nestjs/common';
import * as fs from 'node:fs';
import { NODE_CONFIG, type NodeConfig } from '../config/node-config';

/** Space on the file system that holds DATA_DIR. */
export interface DiskUsage {
  readonly path: string;
  /** Bytes this process may still write (what `df` shows as available). */
  readonly freeBytes: number;
  readonly totalBytes: number;
}

/** Reads the free space where the store lives (one statfs call: microseconds), for /health and /metrics. */
@Injectable()
export class DiskSpace {
  constructor(@Inject(NODE_CONFIG) private readonly config: NodeConfig) {}

  read(): DiskUsage {
    const s = fs.statfsSync(this.config.dataDir);
    return { path: this.config.dataDir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  }
}

@Global()
@Module({ providers: [DiskSpace], exports: [DiskSpace] })
export class DiskModule {}
