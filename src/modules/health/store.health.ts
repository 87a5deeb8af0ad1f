import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CHAT_STORE, ChatStore } from '../../common/store/chat-store';

/** The SQLite store answers a query and its last write did not fail (disk full, I/O error): else the node is down. */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const session = this.health.check('store');
    const writeError = this.store.lastWriteError();
    if (writeError !== null) return session.down({ file: this.store.file, error: `writes fail: ${writeError}` });
    try {
      return session.up({ file: this.store.file, rooms: this.store.listRooms().length });
    } catch (e) {
      return session.down({ file: this.store.file, error: (e as Error).message });
    }
  }
}
