import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MembersModule } from '../members/members.module';
import { PeersModule } from '../peers/peers.module';
import { RoomsModule } from '../rooms/rooms.module';
import { FailoverHealthIndicator } from './failover.health';
import { ClientsHealthIndicator } from './clients.health';
import { DiskHealthIndicator } from './disk.health';
import { HealthAccess } from './health-access';
import { HealthController } from './health.controller';
import { PeersHealthIndicator } from './peers.health';
import { StoreHealthIndicator } from './store.health';
import { XmlRpcHealthIndicator } from './xmlrpc.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), PeersModule, MembersModule, RoomsModule],
  controllers: [HealthController],
  providers: [HealthAccess, StoreHealthIndicator, XmlRpcHealthIndicator, PeersHealthIndicator, ClientsHealthIndicator, FailoverHealthIndicator, DiskHealthIndicator],
})
export class HealthModule {}
