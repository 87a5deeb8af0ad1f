import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { CurrentHost } from '../../../common/protocol/stale-epoch';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory, type PeerStatusListener } from '../../peers/peer-directory';
import { RoomHostService } from '../host/room-host.service';

/** Told when a room this node knows moved to another host. */
export interface HostChangeListener {
  onHostChanged(roomId: string, previousHost: string, steppedDown: boolean): void;
}

/**
 * This node learns that a room has a newer host epoch (the new host's announcement, a catch-up
 * page, or a peer refusing this node as a stale host): it records the new host, steps down if it
 * was the host, and tells the room's local members (room_host_changed).
 */
@Injectable()
export class HostChanges implements PeerStatusListener, OnModuleInit {
  private readonly logger = new Logger(HostChanges.name);
  private readonly listeners: HostChangeListener[] = [];

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly peers: PeerDirectory,
    private readonly host: RoomHostService,
    private readonly clients: ClientRegistry,
  ) {}

  onModuleInit(): void {
    this.peers.subscribe(this);
  }

  subscribe(listener: HostChangeListener): void {
    this.listeners.push(listener);
  }

  /** A peer refused our replication as stale: stop serving the room; follow its host if that one is newer. */
  onStaleEpoch(current: CurrentHost, peer: string): void {
    const room = this.store.getRoom(current.roomId);
    if (!room) return;
    // refused for good: left in the queue they would block everything behind them
    this.peers.discardRoom(current.roomId, current.promisedEpoch);
    if (current.hostEpoch > room.hostEpoch && current.hostNode !== this.config.nodeId) {
      this.follow(current.roomId, current.hostNode, current.hostEpoch, room.epochStart);
      return;
    }
    if (current.promisedEpoch <= room.promisedEpoch) return;
    this.store.setEpochs(room.roomId, { ...room, promisedEpoch: current.promisedEpoch });
    if (this.host.isServing(room.roomId)) {
      this.logger.warn(`Room '${room.roomName}' (${room.roomId}): ${peer} promised epoch ${current.promisedEpoch} to another node; this node (epoch ${room.hostEpoch}) stops serving it`);
      this.host.stopServing(room.roomId, { adminNode: room.hostNode, hostEpoch: room.hostEpoch });
    }
  }

  /** Records that `hostNode` serves the room at `epoch`; false when that is not newer than what this node knows. */
  follow(roomId: string, hostNode: string, epoch: number, epochStart: number): boolean {
    const room = this.store.getRoom(roomId);
    if (room && epoch === room.hostEpoch && hostNode === room.hostNode && epochStart > room.epochStart) {
      this.store.setEpochs(roomId, { ...room, epochStart }); // learned the epoch before its first sequence
      return false;
    }
    if (!room || epoch < room.promisedEpoch || epoch <= room.hostEpoch || hostNode === this.config.nodeId) return false;
    const steppedDown = room.hostNode === this.config.nodeId;
    if (steppedDown) this.host.stopServing(roomId, { adminNode: hostNode, hostEpoch: epoch });
    this.store.setEpochs(roomId, { hostNode, hostEpoch: epoch, promisedEpoch: epoch, epochStart, logEpoch: room.logEpoch });
    this.logger.log(
      `Room '${room.roomName}' (${roomId}) is hosted by ${hostNode} at epoch ${epoch} (was ${room.hostNode}, epoch ${room.hostEpoch})${steppedDown ? ': this node stepped down' : ''}`,
    );
    this.clients.broadcast(roomId, 'room_host_changed', { room_id: roomId, admin_node: hostNode, host_epoch: epoch });
    for (const l of this.listeners) l.onHostChanged(roomId, room.hostNode, steppedDown);
    return true;
  }
}
