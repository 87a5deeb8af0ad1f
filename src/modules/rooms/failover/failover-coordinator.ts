import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { PeerDirectory, type PeerStatusListener } from '../../peers/peer-directory';
import { RoomHostService } from '../host/room-host.service';
import { RoomClaim } from './room-claim';

/**
 * When to claim rooms: those of a host the failover probe suspects (only the lowest live node id
 * claims, so candidates do not compete), and rooms hosted here that this node does not serve
 * (after a restart, or when a peer promised a newer epoch that no host took): a majority must
 * confirm them first. Claims are retried on a timer while
 * any such room is left; at most one claim per room runs at a time.
 */
@Injectable()
export class FailoverCoordinator implements PeerStatusListener, OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  static readonly INTERVAL_NAME = 'failover-claims';
  private readonly logger = new Logger(FailoverCoordinator.name);
  private readonly claiming = new Map<string, Promise<unknown>>();
  private noMajorityLogged = false;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly peers: PeerDirectory,
    private readonly host: RoomHostService,
    private readonly claim: RoomClaim,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onModuleInit(): void {
    this.peers.subscribe(this);
  }

  onApplicationBootstrap(): void {
    if (!this.host.claimsAtBoot) return;
    const every = Math.max(100, Math.round(this.config.failoverTimeoutMs / 4));
    this.scheduler.addInterval(FailoverCoordinator.INTERVAL_NAME, setInterval(() => this.sweep(), every));
    this.sweep();
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', FailoverCoordinator.INTERVAL_NAME)) this.scheduler.deleteInterval(FailoverCoordinator.INTERVAL_NAME);
  }

  onPeerSuspected(): void {
    this.sweep();
  }

  /** One pass: every room that needs a claim and may get one now. */
  sweep(): void {
    const live = [this.config.nodeId, ...this.peers.livePeers()];
    if (live.length < this.peers.majority) {
      if (!this.noMajorityLogged) this.logger.warn(`Only ${live.length} of ${this.peers.nodeIds.length + 1} nodes answer (a majority is ${this.peers.majority}): no room can move or be confirmed until more return`);
      this.noMajorityLogged = true;
      return;
    }
    this.noMajorityLogged = false;
    for (const roomId of this.host.roomsToConfirm()) this.start(roomId);
    for (const suspect of this.peers.nodeIds.filter((p) => this.peers.isSuspected(p))) {
      const candidate = live.filter((n) => n !== suspect).sort()[0];
      if (candidate !== this.config.nodeId) continue;
      for (const room of this.store.listRooms(suspect)) this.start(room.roomId);
    }
  }

  private start(roomId: string): void {
    if (this.claiming.has(roomId)) return;
    const run = this.claim
      .claim(roomId)
      .catch((e: Error) => {
        this.logger.warn(`Claiming room ${roomId} failed: ${e.message}`);
        return false;
      })
      .finally(() => this.claiming.delete(roomId));
    this.claiming.set(roomId, run);
  }
}
