import { Injectable } from '@nestjs/common';
import type { RoomRolesWire } from '../../../common/protocol/client-wire';
import { RoomModerationRepository } from '../../../common/store/room-moderation.repository';

/**
 * Who moderates a room as join_room_success tells a member, from this node's store (every node
 * applies the same moderation entries): the moderators for everyone, the banned names only for
 * the creator and the moderators, who may lift a ban. A page that reloads learns it here instead
 * of from moderator_added / member_banned events it was not there to see; and, for everyone, the
 * room's latest moderation notices (moderation_log: the events members saw of each action, kept by
 * ModerationApplier) to show among the room's lines. Read in the same tick as the joining
 * connection is registered in the room, so an entry applied after it arrives as its event.
 */
@Injectable()
export class ModeratorLists {
  constructor(private readonly moderation: RoomModerationRepository) {}

  of(roomId: string, creatorId: string, username: string): RoomRolesWire {
    const moderators = this.moderation.moderators(roomId);
    const moderates = username === creatorId || moderators.includes(username);
    const log = this.moderation.notices(roomId).map((n) => ({ type: n.event, ...n.data }) as RoomRolesWire['moderation_log'][number]);
    return { moderators, ...(moderates ? { banned: this.moderation.bannedNames(roomId) } : {}), moderation_log: log };
  }
}
