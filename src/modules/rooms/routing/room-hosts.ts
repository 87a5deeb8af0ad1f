import { Inject, Injectable } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { RoomRecord } from '../../../common/store/chat-records';
import { BOOT_ID } from '../../peers/boot-id';
import { PeerDirectory } from '../../peers/peer-directory';
import { MessageEdits } from '../host/message-edits.service';
import { ReadMarkers } from '../host/read-markers.service';
import { RoomDeletionCoordinator } from '../host/room-deletion.coordinator';
import { RoomHostService } from '../host/room-host.service';
import { RoomInvites } from '../host/room-invites.service';
import { RoomModeration } from '../host/room-moderation.service';
import { RoomLogs } from '../replication/room-logs.service';
import { LocalRoomHost } from './local-room-host';
import { RemoteRoomHost } from './remote-room-host';
import type { RoomHost } from './room-host';

/**
 * Where a room is served: the one place that decides between this node and another; every
 * client request asks for(). A failover changes the room's host_node and host_epoch in the store
 * (RoomClaim on the new host, HostChanges elsewhere), so the next request goes there.
 */
@Injectable()
export class RoomHosts {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(BOOT_ID) private readonly bootId: string,
    private readonly peers: PeerDirectory,
    private readonly host: RoomHostService,
    private readonly deletion: RoomDeletionCoordinator,
    private readonly logs: RoomLogs,
    private readonly edits: MessageEdits,
    private readonly readMarkers: ReadMarkers,
    private readonly invites: RoomInvites,
    private readonly moderation: RoomModeration,
  ) {}

  for(room: RoomRecord): RoomHost {
    const node = this.servingNode(room);
    return node === this.config.nodeId
      ? new LocalRoomHost(room, node, this.bootId, this.host, this.deletion, this.edits, this.readMarkers, this.invites, this.moderation)
      : new RemoteRoomHost(room, node, this.config.nodeId, this.bootId, this.peers);
  }

  /** The node that serves `room` now: the host its log names (the last one known while an election runs). */
  servingNode(room: RoomRecord): string {
    return this.logs.hostOf(room.roomId)?.node ?? room.hostNode;
  }
}
