import { Injectable } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import type { RoomSummary } from '../../../common/protocol/client-wire';
import { RoomPrivacyRepository } from '../../../common/store/room-privacy.repository';
import { RoomRepository } from '../../../common/store/room.repository';

/**
 * The one place that decides whether a user may see a room: list it, join it, read its history,
 * search it. A public room: anyone. A private room: only the users its committed entries invited
 * (its creator from the start, a direct room's two people, then each room_invite). Everyone else,
 * and a connection with no user yet, is answered as if the room did not exist, so private room ids
 * do not leak. Every node decides alike: the invitations are replicated entries.
 */
@Injectable()
export class RoomVisibility {
  constructor(
    private readonly privacy: RoomPrivacyRepository,
    private readonly rooms: RoomRepository,
  ) {}

  maySee(roomId: string, username: string | null | undefined): boolean {
    if (!this.privacy.privacyOf(roomId)) return true;
    return typeof username === 'string' && this.privacy.isInvited(roomId, username);
  }

  /** ROOM_NOT_FOUND, the answer for a room that does not exist, for a room `username` may not see. */
  assertVisible(roomId: string, username: string | null | undefined): void {
    if (!this.maySee(roomId, username)) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
  }

  /**
   * The refusal for a connection that is not in the room it asks about (history, search, an
   * invitation): NOT_MEMBER only for a room this node knows and `username` may see; ROOM_NOT_FOUND
   * for a room it does not know and, alike, for a private room `username` may not see.
   */
  notInRoom(roomId: string, username: string | null | undefined): ChatError {
    if (!this.rooms.getRoom(roomId) || !this.maySee(roomId, username)) return new ChatError('ROOM_NOT_FOUND', 'Room not found');
    return new ChatError('NOT_MEMBER', 'You are not a member of this room');
  }

  /** The rooms of a list `username` may see, private ones marked as such. */
  visibleTo<T extends RoomSummary>(rooms: T[], username: string | null | undefined): T[] {
    return rooms.filter((r) => this.maySee(r.room_id, username)).map((r) => this.marked(r));
  }

  /** Public rooms only: what a room list for nobody in particular (a peer's get_hosted_rooms) may show. */
  publicOnly<T extends RoomSummary>(rooms: T[]): T[] {
    return rooms.filter((r) => !this.privacy.privacyOf(r.room_id));
  }

  /** Private rooms this node knows (any host): the ones a user may see are added to their discover_rooms here. */
  privateRoomIds(): string[] {
    return this.privacy.privateRoomIds();
  }

  isDirect(roomId: string): boolean {
    return this.privacy.privacyOf(roomId)?.direct === true;
  }

  isPrivate(roomId: string): boolean {
    return this.privacy.privacyOf(roomId) !== null;
  }

  /** What a room list entry or a join answer adds for a private room (`direct` too for a direct one); nothing for a public room. */
  privacyMarks(roomId: string): { private?: true; direct?: true } {
    const privacy = this.privacy.privacyOf(roomId);
    if (!privacy) return {};
    return { private: true, ...(privacy.direct ? { direct: true } : {}) };
  }

  private marked<T extends RoomSummary>(r: T): T {
    const marks = this.privacyMarks(r.room_id);
    return marks.private ? { ...r, ...marks } : r;
  }
}
