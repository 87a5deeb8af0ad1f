import { DynamicModule, Global, Module } from '@nestjs/common';
import { CHAT_STORE, ChatStore } from './chat-store';

/** Provides the node's opened ChatStore as CHAT_STORE (opened at boot so a bad DATA_DIR fails fast). */
@Global()
@Module({})
export class StoreModule {
  static forRoot(store: ChatStore): DynamicModule {
    return { module: StoreModule, providers: [{ provide: CHAT_STORE, useValue: store }], exports: [CHAT_STORE] };
  }
}
