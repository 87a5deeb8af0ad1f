import { Injectable } from '@nestjs/common';
import type { ClientRequestType } from '../../../common/protocol/client-wire';
import type { ClientConnection } from '../../members/client-connection';
import type { ModerationAction } from '../replication/room-entries';
import { RoomChangeRequests } from './room-change-requests';

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
 * A client's moderation requests: decided and written by the room's host (RoomModeration) and
 * answered once this node applied the entry (RoomChangeRequests), so the requester has seen its
 * own event first. Charged like the other room operations.
 */
@Injectable()
export class ModerationRequests {
  constructor(private readonly changes: RoomChangeRequests) {}

  async moderate(conn: ClientConnection, type: ModerationRequestType, req: ModerationRequestData): Promise<void> {
    const { action, answer } = ACTIONS[type];
    const { room, change: outcome } = await this.changes.change(conn, req, 'room-op', (host) =>
      host.moderate({
        action,
        username: req.username,
        member: req.member,
        ...(action === 'kick' || action === 'ban' ? (req.reason ? { reason: req.reason } : {}) : {}),
        ...(action === 'mute' ? { seconds: req.seconds } : {}),
      }),
    );
    conn.send(answer, { room_id: room.roomId, member: req.member, ...(outcome.mutedUntil ? { muted_until: outcome.mutedUntil } : {}) });
  }
}
