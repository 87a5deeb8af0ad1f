import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { MemberRecord } from '../../../common/store/chat-records';
import { RoomRepository } from '../../../common/store/room.repository';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import type { Leadership } from '../consensus/core-types';
import { RoomHostService } from '../host/room-host.service';
import { RoomLogs, type LeadershipListener } from '../replication/room-logs.service';
import { FailoverHistory } from './failover-history';

/**
 * What changes when a room's host changes, as this node sees it: local members are told
 * (room_host_changed), and a node that takes a room over from a lost host says so (one WARNING,
 * chat_failovers_total), removes the members that were connected through the lost node, and
 * those connected through itself that have no socket here any more (it restarted).
 */
@Injectable()
export class HostChanges implements LeadershipListener, OnModuleInit {
  private readonly logger = new Logger(HostChanges.name);
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly logs: RoomLogs,
    private readonly clients: ClientRegistry,
    private readonly host: RoomHostService,
    private readonly peers: PeerDirectory,
    private readonly history: FailoverHistory,
  ) {}

  onModuleInit(): void {
    this.logs.subscribe(this);
  }

  onLeadership(roomId: string, now: Leadership, was: Leadership, before: { node: string; epoch: number } | null): void {
    const room = this.rooms.getRoom(roomId);
    const self = this.config.nodeId;
    if (was.role === 'leader' && now.role !== 'leader') {
      this.logger.warn(`Room ${room ? `'${room.roomName}' ` : ''}(${roomId}): this node stopped hosting it at epoch ${was.epoch}${now.leader ? `; ${now.leader} hosts it at epoch ${now.epoch}` : ' (it does not hear a majority, or a newer epoch exists)'}`);
    }
    if (!now.leader) return;
    if (now.role === 'leader' && was.role !== 'leader') this.tookOver(roomId, now.epoch, before);
    if (room && before && before.node !== now.leader) {
      this.clients.broadcast(roomId, 'room_host_changed', { room_id: roomId, admin_node: now.leader, host_epoch: now.epoch });
      if (now.leader !== self) this.logger.log(`Room '${room.roomName}' (${roomId}) is hosted by ${now.leader} at epoch ${now.epoch} (was ${before.node}, epoch ${before.epoch})`);
    }
  }

  private tookOver(roomId: string, epoch: number, before: { node: string; epoch: number } | null): void {
    const room = this.rooms.getRoom(roomId);
    if (!room) return; // its first entry is not applied here yet: nothing to announce or clean
    const self = this.config.nodeId;
    const next = room.lastSequence + 1;
    if (before && before.node !== self) {
      this.logger.warn(`Room '${room.roomName}' (${roomId}) failed over from ${before.node} (epoch ${before.epoch}) to ${self} (epoch ${epoch}), continuing at sequence ${next}`);
      this.history.record({ room_id: roomId, room_name: room.roomName, from_node: before.node, to_node: self, from_epoch: before.epoch, to_epoch: epoch, first_sequence: next });
    } else {
      this.logger.log(`Room '${room.roomName}' (${roomId}) confirmed by a majority: this node hosts it at epoch ${epoch}, from sequence ${next}`);
    }
    this.removeLostMembers(roomId, before?.node ?? null);
  }

  /**
   * A new host removes the members whose connections are gone: those through this node with no
   * socket here (they left while nobody could write it), those through a node that restarted since
   * they joined (its connections ended with it; it may have restarted before this node took over,
   * when nobody hosted the room to hear of it), then those through a lost host that is still down.
   */
  private removeLostMembers(roomId: string, lostNode: string | null): void {
    const self = this.config.nodeId;
    const restartedSince = (m: MemberRecord) => m.nodeId !== self && m.bootId !== null && (this.peers.health(m.nodeId)?.bootId ?? m.bootId) !== m.bootId;
    const gone = (m: MemberRecord) => (m.nodeId === self && !this.clients.usernameInRoom(roomId, m.username)) || restartedSince(m);
    this.host.removeMembersIn(roomId, gone, 'User disconnected');
    if (lostNode && lostNode !== self && (this.peers.isSuspected(lostNode) || this.peers.isFailed(lostNode))) {
      this.host.removeMembersIn(roomId, (m) => m.nodeId === lostNode && !gone(m), 'Node unreachable');
    }
  }
}
