import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module';
import { RoomHistoryService } from './room-history.service';
import { PeersModule } from '../peers/peers.module';
import { ChatService } from './chat.service';
import { PeerFailureHandler } from './peer-failure.handler';
import { ReplicaService } from './replica.service';
import { RoomDeletionService } from './room-deletion.service';
import { RoomEventPublisher } from './room-events.publisher';
import { RoomHostAuthority } from './room-host-authority';
import { RoomHostService } from './room-host.service';
import { RoomLocator } from './routing/room-locator';
import { RoomHosts } from './routing/room-hosts';
import { RoomsGateway } from './rooms.gateway';
import { RoomStatePages } from './room-state-pages';
import { RoomsRpcController } from './rooms.rpc.controller';
import { UsernameGuard } from './username-guard';

@Module({
  imports: [MembersModule, PeersModule],
  controllers: [RoomsRpcController],
  providers: [RoomHistoryService, ChatService, RoomHostService, ReplicaService, RoomDeletionService, RoomEventPublisher, RoomLocator, RoomHosts, PeerFailureHandler, RoomsGateway, RoomStatePages, UsernameGuard, RoomHostAuthority],
  exports: [ChatService, RoomHostService, RoomEventPublisher],
})
export class RoomsModule {}
