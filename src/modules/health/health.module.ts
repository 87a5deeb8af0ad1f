import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MembersModule } from '../members/members.module';
import { PeersModule } from '../peers/peers.module';
import { ClientsHealthIndicator } from './clients.health';
import { HealthAccess } from './health-access';
import { HealthController } from './health.controller';
import { PeersHealthIndicator } from './peers.health';
import { StoreHealthIndicator } from './store.health';
import { XmlRpcHealthIndicator } from './xmlrpc.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), PeersModule, MembersModule],
  controllers: [HealthController],
  providers: [HealthAccess, StoreHealthIndicator, XmlRpcHealthIndicator, PeersHealthIndicator, ClientsHealthIndicator],
})
export class HealthModule {}
