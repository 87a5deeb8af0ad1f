import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { MemberRepository } from '../../common/store/member.repository';
import type { ClientConnection } from './client-connection';
import { ClientRegistry } from './client-registry';

/** Told when an idle member was removed on this node, so the room's host can announce it (rooms subscribes: members never imports rooms). */
export interface InactiveMemberListener {
  onMemberInactive(conn: ClientConnection, roomId: string, username: string): Promise<void>;
}

/**
 * Every CLEANUP_INTERVAL, removes members whose connection on this node has been idle (no request,
 * no keepalive pong) for INACTIVITY_TIMEOUT: the socket is told and unregistered, the room's host
 * announces `member_left` with reason Inactivity.
 */
@Injectable()
export class StaleMemberCleanupService implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly INTERVAL_NAME = 'stale-member-cleanup';
  private readonly logger = new Logger(StaleMemberCleanupService.name);
  private readonly listeners: InactiveMemberListener[] = [];

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly members: MemberRepository,
    private readonly clock: Clock,
    private readonly clients: ClientRegistry,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  subscribe(listener: InactiveMemberListener): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.cleanup(), this.config.cleanupIntervalMs);
    this.scheduler.addInterval(StaleMemberCleanupService.INTERVAL_NAME, timer);
    this.logger.log(
      `Stale member cleanup every ${this.config.cleanupIntervalMs / 1000}s (inactivity timeout ${this.config.inactivityTimeoutMs / 1000}s)`,
    );
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', StaleMemberCleanupService.INTERVAL_NAME)) {
      this.scheduler.deleteInterval(StaleMemberCleanupService.INTERVAL_NAME);
    }
  }

  /** One sweep; returns how many memberships were removed. */
  async cleanup(): Promise<number> {
    this.logger.log('Starting stale member cleanup');
    const now = this.clock.monotonic(); // idle time is a duration: a stepped wall clock must not age every member at once
    let removed = 0;
    for (const conn of [...this.clients.all()]) {
      const idleMs = now - conn.lastActivity;
      if (idleMs <= this.config.inactivityTimeoutMs || conn.rooms.size === 0) continue;
      for (const [roomId, { username }] of [...conn.rooms]) {
        conn.send('member_left', {
          room_id: roomId,
          username,
          member_count: Math.max(0, this.members.memberCount(roomId) - 1),
          timestamp: this.clock.iso(),
          reason: 'Inactivity',
        });
        this.clients.unregister(conn, roomId);
        for (const listener of this.listeners) await listener.onMemberInactive(conn, roomId, username);
        this.logger.log(`Stale member cleanup: removed ${username} from room ${roomId} after ${Math.round(idleMs / 1000)}s idle`);
        removed++;
      }
    }
    if (removed > 0) this.logger.log(`Stale member cleanup finished: ${removed} member(s) removed`);
    else this.logger.debug('Stale member cleanup finished: no stale members');
    return removed;
  }
}
