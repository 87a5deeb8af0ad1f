import { Injectable } from '@nestjs/common';
import type { ReadStateWire, RoomSummary } from '../../../common/protocol/client-wire';
import { MemberRepository } from '../../../common/store/member.repository';
import { ReadMarkerRepository } from '../../../common/store/read-marker.repository';

/**
 * A user's read marker and unread count as clients see them, from this node's store (every node
 * applies the same read_marker entries and messages, so any node answers the same once caught up).
 * The one place list_rooms, discover_rooms, join_room_success and mark_read_success get them from.
 */
@Injectable()
export class ReadStates {
  constructor(
    private readonly markers: ReadMarkerRepository,
    private readonly members: MemberRepository,
  ) {}

  of(roomId: string, username: string): ReadStateWire {
    const { lastRead, unreadCount } = this.markers.readState(roomId, username);
    return { last_read: lastRead, unread_count: unreadCount };
  }

  /**
   * The rooms with the user's read state added to those the user is a member of (others unchanged):
   * the rooms the asking connection is in (`joined`: its join was answered, though this node may
   * not have applied the host's member entry yet), and those this node's store lists the user in
   * (through another connection, say).
   */
  annotate<R extends RoomSummary>(rooms: R[], username: string | null, joined: { has(roomId: string): boolean }): R[] {
    if (username === null) return rooms;
    return rooms.map((r) => (joined.has(r.room_id) || this.members.getMember(r.room_id, username) ? { ...r, ...this.of(r.room_id, username) } : r));
  }
}
