import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module';
import { PeersModule } from '../peers/peers.module';
import { RoomsModule } from '../rooms/rooms.module';
import { MetricsPortServer } from './metrics-port.server';
import { MetricsController } from './metrics.controller';
import { NodeGauges } from './node-gauges';
import { PeerStatusFetcher } from './peer-status.fetcher';
import { RateHistory } from './rate-history';
import { StatusController } from './status.controller';

/** GET /metrics (and METRICS_PORT), GET /status.json: reads the lower modules, nothing imports it. */
@Module({
  imports: [PeersModule, MembersModule, RoomsModule],
  controllers: [MetricsController, StatusController],
  providers: [NodeGauges, RateHistory, PeerStatusFetcher, MetricsPortServer],
})
export class MetricsModule {}
