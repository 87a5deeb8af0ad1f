import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module';
import { PeersModule } from '../peers/peers.module';
import { RoomHistoryService } from './client/room-history.service';
import { RoomRequestsService } from './client/room-requests.service';
import { RoomsGateway } from './client/rooms.gateway';
import { HostPeerRequests } from './host/host-peer-requests.service';
import { HostRpcController } from './host/host.rpc.controller';
import { RoomDeletionCoordinator } from './host/room-deletion.coordinator';
import { RoomEventPublisher } from './host/room-events.publisher';
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
import { RoomHosts } from './routing/room-hosts';
import { RoomLocator } from './routing/room-locator';
import { CommitLedger } from './host/commit-ledger';
import { HostEpochs } from './host/host-epochs';
import { LocalWrites } from './host/local-writes';
import { HostChanges } from './replica/host-changes';
import { LogReconciler } from './replica/log-reconciler';
import { ClaimGrants } from './failover/claim-grants';
import { FailoverCoordinator } from './failover/failover-coordinator';
import { FailoverHistory } from './failover/failover-history';
import { FailoverRpcController } from './failover/failover.rpc.controller';
import { RoomClaim } from './failover/room-claim';

/**
 * Rooms by role: client (requests), routing (where a room is served), host (sequencing), replica
 * (copies of rooms hosted elsewhere), failover (electing a new host when one stops answering).
 */
@Module({
  imports: [MembersModule, PeersModule],
  controllers: [HostRpcController, ReplicaRpcController, IdentityRpcController, FailoverRpcController],
  providers: [
    RoomsGateway,
    RoomRequestsService,
    RoomHistoryService,
    RoomLocator,
    RoomHosts,
    RoomHostService,
    HostPeerRequests,
    RoomEventPublisher,
    RoomDeletionCoordinator,
    RoomStatePages,
    ReplicaService,
    PeerCatchUp,
    ReferenceBroadcasts,
    RoomDeletionParticipant,
    RoomHostAuthority,
    PeerFailureHandler,
    UsernameGuard,
    CommitLedger,
    LocalWrites,
    HostEpochs,
    HostChanges,
    LogReconciler,
    ClaimGrants,
    RoomClaim,
    FailoverCoordinator,
    FailoverHistory,
  ],
  exports: [RoomHostService, RoomEventPublisher, FailoverHistory],
})
export class RoomsModule {}
