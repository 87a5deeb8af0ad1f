import { Module } from '@nestjs/common';
import { ClientRegistry } from './client-registry';
import { RequestLimiter } from './request-limiter';
import { StaleMemberCleanupService } from './stale-member-cleanup.service';

@Module({
  providers: [ClientRegistry, StaleMemberCleanupService, RequestLimiter],
  exports: [ClientRegistry, StaleMemberCleanupService, RequestLimiter],
})
export class MembersModule {}
