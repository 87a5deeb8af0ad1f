import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module';
import { PeersModule } from '../peers/peers.module';
import { ConnectionIdentity } from './client/connection-identity';
import { MessageChangeRequests } from './client/message-change-requests.service';
import { RoomChangeRequests } from './client/room-change-requests';
import { MessageSearch } from './client/message-search.service';
import { ReadMarkerRequests } from './client/read-marker-requests.service';
import { PrivateRoomRequests } from './client/private-room-requests.service';
import { ReadStates } from './client/read-states';
import { ModeratorLists } from './client/moderator-lists';
import { RoomHistoryService } from './client/room-history.service';
import { RoomRequestsService } from './client/room-requests.service';
import { RoomsGateway } from './client/rooms.gateway';
import { FailoverHistory } from './failover/failover-history';
import { HostChanges } from './failover/host-changes';
import { HostPeerRequests } from './host/host-peer-requests.service';
import { HostRpcController } from './host/host.rpc.controller';
import { MessageEdits } from './host/message-edits.service';
import { MessageRetention } from './host/message-retention.service';
import { ReadMarkers } from './host/read-markers.service';
import { DirectRoomFounder } from './host/direct-room-founder.service';
import { PrivateRoomPeerRequests } from './host/private-room-peer-requests.service';
import { RoomInvites } from './host/room-invites.service';
import { RoomModeration } from './host/room-moderation.service';
import { ModerationPeerRequests } from './host/moderation-peer-requests.service';
import { ModerationRequests } from './client/moderation-requests.service';
import { RoomDeletionCoordinator } from './host/room-deletion.coordinator';
import { RoomHostService } from './host/room-host.service';
import { RoomStatePages } from './host/room-state-pages';
import { IdentityRpcController } from './identity/identity.rpc.controller';
import { UsernameGuard } from './identity/username-guard';
import { PeerCatchUp } from './replica/peer-catch-up.service';
import { PeerFailureHandler } from './replica/peer-failure.handler';
import { ReferenceBroadcasts } from './replica/reference-broadcasts';
import { ReplicaService } from './replica/replica.service';
import { ReplicaRpcController } from './replica/replica.rpc.controller';
import { RoomDeletionParticipant } from './replica/room-deletion.participant';
import { RoomHostAuthority } from './replica/room-host-authority';
import { LogApplier } from './replication/log-applier';
import { LogWriter } from './replication/log-writer';
import { RoomLogOutbox } from './replication/room-log-outbox';
import { RoomLogRpcController } from './replication/room-log.rpc.controller';
import { RoomLogPeers } from './replication/room-log-peers';
import { RoomLogs } from './replication/room-logs.service';
import { RoomVisibility } from './replication/room-visibility';
import { RoomHosts } from './routing/room-hosts';
import { RoomLocator } from './routing/room-locator';
import { TypingNotices } from './typing/typing-notices.service';
import { TypingRpcController } from './typing/typing.rpc.controller';

/**
 * Rooms by role: client (requests), routing (where a room is served), host (what the host of a
 * room does), replica (what every node does for rooms hosted elsewhere), replication (every
 * room's log on this node: the consensus cores, their disk and wire), failover (what changes
 * when a room's host changes), typing (ephemeral typing notices, outside the logs). consensus/ is
 * the pure core the replication layer runs.
 */
@Module({
  imports: [MembersModule, PeersModule],
  controllers: [HostRpcController, ReplicaRpcController, IdentityRpcController, RoomLogRpcController, TypingRpcController],
  providers: [
    RoomsGateway,
    RoomRequestsService,
    RoomHistoryService,
    ConnectionIdentity,
    RoomChangeRequests,
    MessageChangeRequests,
    MessageEdits,
    ReadMarkerRequests,
    ReadMarkers,
    ReadStates,
    ModeratorLists,
    MessageSearch,
    PrivateRoomRequests,
    RoomInvites,
    DirectRoomFounder,
    PrivateRoomPeerRequests,
    RoomModeration,
    ModerationPeerRequests,
    ModerationRequests,
    RoomVisibility,
    TypingNotices,
    RoomLocator,
    RoomHosts,
    RoomHostService,
    HostPeerRequests,
    RoomDeletionCoordinator,
    RoomStatePages,
    MessageRetention,
    ReplicaService,
    PeerCatchUp,
    ReferenceBroadcasts,
    RoomDeletionParticipant,
    RoomHostAuthority,
    PeerFailureHandler,
    UsernameGuard,
    RoomLogs,
    RoomLogPeers,
    LogWriter,
    LogApplier,
    RoomLogOutbox,
    HostChanges,
    FailoverHistory,
  ],
  exports: [RoomHostService, LogApplier, RoomLogOutbox, RoomLogs, FailoverHistory],
})
export class RoomsModule {}
