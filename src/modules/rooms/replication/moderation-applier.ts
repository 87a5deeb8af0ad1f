import type { ModerationEvent } from '../../../common/protocol/client-wire';
import type { MemberRepository } from '../../../common/store/member.repository';
import type { RoomModerationRepository } from '../../../common/store/room-moderation.repository';
import type { RoomRepository } from '../../../common/store/room.repository';
import type { StoreTransactions } from '../../../common/store/store-transactions';
import type { ClientRegistry } from '../../members/client-registry';
import type { Entry } from '../consensus/log-entry';
import type { ModerationAction, ModerationData } from './room-entries';
import type { SequenceWaiters } from './sequence-waiters';

/** The event members are told for each action. */
const EVENT_OF: Record<ModerationAction, 'moderator_added' | 'member_kicked' | 'member_banned' | 'member_unbanned' | 'member_muted'> = {
  add_moderator: 'moderator_added',
  kick: 'member_kicked',
  ban: 'member_banned',
  unban: 'member_unbanned',
  mute: 'member_muted',
};

/**
 * Moderation entries, applied the same way on every node (LogApplier hands them here): the
 * moderators, bans and mutes go into room_moderation, the event members are told into the room's
 * moderation notices (room_moderation_log, by log index); a kick or a ban removes the member from the
 * room and, once the write has committed, tells everyone in the room (the member acted on
 * included) and takes that member's connections on this node out of the room. Owned by LogApplier.
 */
export class ModerationApplier {
  constructor(
    private readonly transactions: StoreTransactions,
    private readonly rooms: RoomRepository,
    private readonly members: MemberRepository,
    private readonly moderation: RoomModerationRepository,
    private readonly clients: ClientRegistry,
    /** Requesters waiting for their change to be applied here, by log index (shared with message changes). */
    private readonly applied: SequenceWaiters,
  ) {}

  apply(roomId: string, entry: Entry): void {
    const d = entry.data as ModerationData | null;
    if (d && typeof d.member === 'string' && Object.hasOwn(EVENT_OF, d.action) && this.rooms.getRoom(roomId)) this.applyAction(roomId, entry.index, d);
    this.transactions.afterCommit(() => this.applied.reached(roomId, entry.index, 0));
  }

  private applyAction(roomId: string, index: number, d: ModerationData): void {
    const removes = d.action === 'kick' || d.action === 'ban';
    if (d.action === 'add_moderator') this.moderation.addModerator(roomId, d.member);
    if (d.action === 'ban' || d.action === 'unban') this.moderation.setBanned(roomId, d.member, d.action === 'ban');
    if (d.action === 'mute' && typeof d.muted_until === 'string') this.moderation.muteUntil(roomId, d.member, d.muted_until);
    if (removes) this.members.removeMember(roomId, d.member);
    const event: ModerationEvent = {
      room_id: roomId,
      member: d.member,
      by: d.by,
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.muted_until ? { muted_until: d.muted_until } : {}),
      ...(removes ? { member_count: this.members.memberCount(roomId) } : {}),
      timestamp: d.timestamp,
    };
    // the notice a member joining later is shown (join_room_success moderation_log), in this same write
    this.moderation.recordNotice(roomId, index, EVENT_OF[d.action], { ...event });
    this.transactions.afterCommit(() => {
      // told before the removal below, so the member acted on sees why they are out
      this.clients.broadcast(roomId, EVENT_OF[d.action], event);
      if (removes) this.clients.unregisterUserInRoom(roomId, d.member);
    });
  }
}
