import { forwardRef, Module } from '@nestjs/common';
import { RoomsModule } from '../rooms/rooms.module';
import { ClientRegistry } from './client-registry';
import { RequestLimiter } from './request-limiter';
import { StaleMemberCleanupService } from './stale-member-cleanup.service';

@Module({
  imports: [forwardRef(() => RoomsModule)],
  providers: [ClientRegistry, StaleMemberCleanupService, RequestLimiter],
  exports: [ClientRegistry, StaleMemberCleanupService, RequestLimiter],
})
export class MembersModule {}
