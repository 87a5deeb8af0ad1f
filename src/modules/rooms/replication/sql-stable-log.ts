import type { Entry, StableLog } from '../consensus/log-entry';
import type { RoomLogRepository } from '../../../common/store/room-log.repository';

/** One room's stored log as the core reads it: the room's rows of log_entries. */
export class SqlStableLog implements StableLog {
  constructor(
    private readonly repo: RoomLogRepository,
    private readonly roomId: string,
  ) {}

  lastIndex(): number {
    return this.repo.lastIndex(this.roomId);
  }
  entry(index: number): Entry | undefined {
    return this.repo.entry(this.roomId, index);
  }
  entries(from: number, to: number, maxBytes: number): Entry[] {
    return this.repo.entries(this.roomId, from, to, maxBytes);
  }
  findByClientKey(clientKey: string): Entry | undefined {
    return this.repo.findByClientKey(this.roomId, clientKey);
  }
  lastIndexWithEpochAtMost(atOrBelow: number, epoch: number): number {
    return this.repo.lastIndexWithEpochAtMost(this.roomId, atOrBelow, epoch);
  }
}
