import { Injectable, Logger } from '@nestjs/common';
import type { ClientRequestType } from '../../../common/protocol/client-wire';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import { RequestLimiter } from '../../members/request-limiter';
import { ReplicaService } from '../replica/replica.service';
import type { ModerationAction } from '../replication/room-entries';
import { RoomVisibility } from '../replication/room-visibility';
import { RoomHosts } from '../routing/room-hosts';
import { RoomLocator } from '../routing/room-locator';
import { ConnectionIdentity } from './connection-identity';

/** A moderation request as the gateway hands it over (its DTO validated it). */
export interface ModerationRequestData {
  room_id: string;
  username: string;
  member: string;
  reason?: string;
  seconds?: number;
}

/** Each request type's action, and the frame that answers it. */
const ACTIONS = {
  add_moderator: { action: 'add_moderator', answer: 'add_moderator_success' },
  kick_member: { action: 'kick', answer: 'kick_member_success' },
  ban_member: { action: 'ban', answer: 'ban_member_success' },
  unban_member: { action: 'unban', answer: 'unban_member_success' },
  mute_member: { action: 'mute', answer: 'mute_member_success' },
} as const satisfies Partial<Record<ClientRequestType, { action: ModerationAction; answer: string }>>;

export type ModerationRequestType = keyof typeof ACTIONS;

/**
 * A client's moderation requests, whichever node hosts the room: decided and written by the
 * room's host (RoomModeration, through RoomHosts) and answered once this node applied the entry,
 * so the requester has seen its own event first. Charged like the other room operations.
 */
@Injectable()
export class ModerationRequests {
  private readonly logger = new Logger(ModerationRequests.name);

  constructor(
    private readonly clients: ClientRegistry,
    private readonly replica: ReplicaService,
    private readonly locator: RoomLocator,
    private readonly hosts: RoomHosts,
    private readonly identity: ConnectionIdentity,
    private readonly limits: RequestLimiter,
    private readonly visibility: RoomVisibility,
  ) {}

  async moderate(conn: ClientConnection, type: ModerationRequestType, req: ModerationRequestData): Promise<void> {
    this.limits.admitRoomOp(conn);
    await this.identity.assert(conn, req.username);
    if (!conn.rooms.has(req.room_id)) throw this.visibility.notInRoom(req.room_id, req.username);
    this.clients.touch(conn);
    const room = await this.locator.activeRoom(req.room_id);
    const { action, answer } = ACTIONS[type];
    const outcome = await this.hosts.for(room).moderate({
      action,
      username: req.username,
      member: req.member,
      ...(action === 'kick' || action === 'ban' ? (req.reason ? { reason: req.reason } : {}) : {}),
      ...(action === 'mute' ? { seconds: req.seconds } : {}),
    });
    // committed on a majority; if it has not reached this node in time it still counts, and arrives with the catch-up
    await this.replica.waitForChange(room.roomId, outcome.logIndex).catch((e: Error) => this.logger.warn(`${e.message}: answering anyway`));
    conn.send(answer, { room_id: room.roomId, member: req.member, ...(outcome.mutedUntil ? { muted_until: outcome.mutedUntil } : {}) });
  }
}
