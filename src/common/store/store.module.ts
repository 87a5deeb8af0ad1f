import { DynamicModule, Global, Module, type ValueProvider } from '@nestjs/common';
import { ChatStore } from './chat-store';
import { MemberRepository } from './member.repository';
import { MessageSearchRepository } from './message-search.repository';
import { MessageRepository } from './message.repository';
import { ReadMarkerRepository } from './read-marker.repository';
import { RoomPrivacyRepository } from './room-privacy.repository';
import { RoomModerationRepository } from './room-moderation.repository';
import { RoomLogRepository } from './room-log.repository';
import { RoomRepository } from './room.repository';
import { StoreTransactions } from './store-transactions';
import { TombstoneRepository } from './tombstone.repository';

/** The parts of one opened store, each by its class: services inject the repositories they use. */
export function storeProviders(store: ChatStore): ValueProvider[] {
  return [
    { provide: ChatStore, useValue: store },
    { provide: StoreTransactions, useValue: store.transactions },
    { provide: RoomRepository, useValue: store.rooms },
    { provide: MessageRepository, useValue: store.messages },
    { provide: MemberRepository, useValue: store.members },
    { provide: TombstoneRepository, useValue: store.tombstones },
    { provide: RoomLogRepository, useValue: store.logs },
    { provide: ReadMarkerRepository, useValue: store.readMarkers },
    { provide: MessageSearchRepository, useValue: store.search },
    { provide: RoomPrivacyRepository, useValue: store.privacy },
    { provide: RoomModerationRepository, useValue: store.moderation },
  ];
}

/** Provides the node's opened store (opened at boot so a bad DATA_DIR fails fast) as its repositories. */
@Global()
@Module({})
export class StoreModule {
  static forRoot(store: ChatStore): DynamicModule {
    const providers = storeProviders(store);
    return { module: StoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
