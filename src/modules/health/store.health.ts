import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CHAT_STORE, ChatStore } from '../../common/store/chat-store';

/** The SQLite store answers a query. */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const session = this.health.check('store');
    try {
      return session.up({ file: this.store.file, rooms: this.store.listRooms().length });
    } catch (e) {
      return session.down({ file: this.store.file, error: (e as Error).message });
    }
  }
}
