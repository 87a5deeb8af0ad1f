import { Injectable } from '@nestjs/common';
import type { RoomRolesWire } from '../../../common/protocol/client-wire';
import { RoomModerationRepository } from '../../../common/store/room-moderation.repository';

/**
 * Who moderates a room as join_room_success tells a member, from this node's store (every node
 * applies the same moderation entries): the moderators for everyone, the banned names only for
 * the creator and the moderators, who may lift a ban. A page that reloads learns it here instead
 * of from moderator_added / member_banned events it was not there to see. Read in the same tick
 * as the joining connection is registered in the room, so an entry applied after it arrives as
 * its event.
 */
@Injectable()
export class ModeratorLists {
  constructor(private readonly moderation: RoomModerationRepository) {}

  of(roomId: string, creatorId: string, username: string): RoomRolesWire {
    const moderators = this.moderation.moderators(roomId);
    const moderates = username === creatorId || moderators.includes(username);
    return { moderators, ...(moderates ? { banned: this.moderation.bannedNames(roomId) } : {}) };
  }
}
