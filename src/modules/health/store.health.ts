import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ChatStore } from '../../common/store/chat-store';

/** The SQLite store answers a query and can write (a full disk or failing checkpoints make it down). */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    private readonly store: ChatStore,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const session = this.health.check('store');
    try {
      const writes = this.store.writeHealth();
      const details = { file: this.store.file, rooms: this.store.rooms.listRooms().length, writes };
      return writes.ok ? session.up(details) : session.down(details);
    } catch (e) {
      return session.down({ file: this.store.file, error: (e as Error).message });
    }
  }
}
