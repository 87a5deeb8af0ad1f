import { forwardRef, Module } from '@nestjs/common';
import { RoomsModule } from '../rooms/rooms.module';
import { ClientRegistry } from './client-registry';
import { StaleMemberCleanupService } from './stale-member-cleanup.service';

@Module({
  imports: [forwardRef(() => RoomsModule)],
  providers: [ClientRegistry, StaleMemberCleanupService],
  exports: [ClientRegistry, StaleMemberCleanupService],
})
export class MembersModule {}
