import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ClockModule } from './common/clock/clock.module';
import { ConfigModule } from './common/config/config.module';
import { DiskModule } from './common/disk/disk-space';
import type { NodeConfig } from './common/config/node-config';
import type { ChatStore } from './common/store/chat-store';
import { StoreModule } from './common/store/store.module';
import { MetricsCoreModule } from './common/metrics/metrics-core.module';
import { HealthModule } from './modules/health/health.module';
import { MetricsModule } from './modules/metrics/metrics.module';
import { MembersModule } from './modules/members/members.module';
import { PeersModule } from './modules/peers/peers.module';
import { RoomsModule } from './modules/rooms/rooms.module';

/** One chat node. Config and store are opened before Nest starts, so their errors name the variable. */
@Module({})
export class AppModule {
  static forNode(config: NodeConfig, store: ChatStore): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        StoreModule.forRoot(store),
        ClockModule,
        DiskModule,
        MetricsCoreModule,
        ScheduleModule.forRoot(),
        PeersModule,
        MembersModule,
        RoomsModule,
        HealthModule,
        MetricsModule,
      ],
    };
  }
}
