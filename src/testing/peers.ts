/** Builders for specs that construct the peer directory: its providers and the heartbeat answers it reads. */
import type { Provider } from '@nestjs/common';
import type { PeerResult } from '../common/protocol/peer-wire';
import { ChatStore } from '../common/store/chat-store';
import { storeProviders } from '../common/store/store.module';
import { NodeDisk } from '../modules/peers/node-disk';

/** What PeerDirectory needs besides NODE_CONFIG and Clock: this node's disk identity (on an in-memory store). */
export const peerDirectoryDeps = (store: ChatStore = ChatStore.inMemory()): Provider[] => [NodeDisk, ...storeProviders(store)];

/** A peer's heartbeat answer: booted as `bootId`, with whatever else the test sets. */
export const heartbeatAnswer = (bootId: string, over: Partial<PeerResult<'heartbeat'>> = {}): PeerResult<'heartbeat'> => ({
  status: 'ok',
  node_id: 'node2',
  timestamp: '2026-01-01T00:00:00.000Z',
  boot_id: bootId,
  client_url: '',
  ...over,
});
