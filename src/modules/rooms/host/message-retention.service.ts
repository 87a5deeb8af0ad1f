import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { MessageRepository } from '../../../common/store/message.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { TRIM, type TrimData } from '../replication/room-entries';
import { RoomLogs } from '../replication/room-logs.service';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Message retention (MAX_MESSAGES_PER_ROOM, RETENTION_DAYS; off by default). Every
 * RETENTION_INTERVAL the node proposes, for each room it hosts whose store holds messages beyond a
 * limit, one `trim` entry naming the first sequence to keep. It is applied like any other entry
 * (LogApplier), so every node removes the same messages at the same point of the log; no node
 * trims on its own timer. The host decides from its own store and wall clock.
 */
@Injectable()
export class MessageRetention implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly INTERVAL_NAME = 'message-retention';
  private readonly logger = new Logger(MessageRetention.name);
  /** Rooms with a trim proposed and not yet settled: one at a time per room. */
  private readonly inFlight = new Set<string>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly messages: MessageRepository,
    private readonly clock: Clock,
    private readonly logs: RoomLogs,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  get enabled(): boolean {
    return this.config.maxMessagesPerRoom > 0 || this.config.retentionDays > 0;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.scheduler.addInterval(MessageRetention.INTERVAL_NAME, setInterval(() => void this.sweep(), this.config.retentionIntervalMs));
    const limits = [this.config.maxMessagesPerRoom > 0 ? `the newest ${this.config.maxMessagesPerRoom} messages per room` : null, this.config.retentionDays > 0 ? `messages of the last ${this.config.retentionDays} day(s)` : null];
    this.logger.log(`Message retention: keeping ${limits.filter(Boolean).join(' and at most ')}, checked every ${this.config.retentionIntervalMs / 1000}s in the rooms hosted here`);
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', MessageRetention.INTERVAL_NAME)) this.scheduler.deleteInterval(MessageRetention.INTERVAL_NAME);
  }

  /**
   * What retention removes from the room now, as this node's store and wall clock see it: the
   * first sequence to keep and why, or null when nothing is to go. Count: the newest
   * MAX_MESSAGES_PER_ROOM stay. Age: everything before the first message stamped within
   * RETENTION_DAYS goes (all of them when none is). Both set: the later cut-off wins.
   */
  cutoff(roomId: string): Omit<TrimData, 'timestamp'> | null {
    const room = this.rooms.getRoom(roomId);
    if (!room || room.lastSequence === 0) return null;
    const last = room.lastSequence;
    let byCount = 0;
    if (this.config.maxMessagesPerRoom > 0) byCount = Math.max(0, last - this.config.maxMessagesPerRoom + 1);
    let byAge = 0;
    if (this.config.retentionDays > 0) {
      const since = this.clock.iso(this.clock.now() - Math.round(this.config.retentionDays * DAY_MS));
      byAge = this.messages.firstSequenceSince(roomId, since) ?? last + 1;
    }
    const before = Math.max(byCount, byAge);
    if (before <= this.messages.firstSequence(roomId)) return null; // nothing stored below it
    const reason = byCount === byAge ? 'count+age' : byCount > byAge ? 'count' : 'age';
    return { before_sequence: before, reason };
  }

  /** One pass over the rooms hosted here; resolves once every trim it proposed settled. Returns the rooms trimmed. */
  async sweep(): Promise<number> {
    const proposals: Promise<boolean>[] = [];
    for (const roomId of this.logs.hostedRooms()) {
      if (this.inFlight.has(roomId) || this.rooms.getRoom(roomId)?.state !== 'ACTIVE') continue;
      proposals.push(this.trim(roomId));
    }
    const trimmed = (await Promise.all(proposals)).filter(Boolean).length;
    if (trimmed > 0) this.logger.log(`Message retention: trimmed ${trimmed} room(s)`);
    return trimmed;
  }

  private async trim(roomId: string): Promise<boolean> {
    this.inFlight.add(roomId);
    try {
      // decided from this host's store: only once it applied what earlier hosts committed (RoomLogs.serve)
      return await this.logs.serve(roomId, async () => {
        const cut = this.rooms.getRoom(roomId)?.state === 'ACTIVE' ? this.cutoff(roomId) : null;
        if (!cut) return false;
        await this.logs.propose(roomId, { kind: TRIM, data: { ...cut, timestamp: this.clock.iso() } satisfies TrimData });
        return true;
      });
    } catch (e) {
      // not the host any more, no majority, a full disk: the next sweep (here or at the new host) tries again
      this.logger.debug(`Message retention in room ${roomId} not committed: ${(e as Error).message}`);
      return false;
    } finally {
      this.inFlight.delete(roomId);
    }
  }
}
