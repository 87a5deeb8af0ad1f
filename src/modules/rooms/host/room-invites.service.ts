import { Injectable } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { ChatError } from '../../../common/errors/chat-error';
import { MemberRepository } from '../../../common/store/member.repository';
import { RoomPrivacyRepository } from '../../../common/store/room-privacy.repository';
import { ROOM_INVITE, type RoomInviteData } from '../replication/room-entries';
import { RoomLogs } from '../replication/room-logs.service';
import { RoomHostService } from './room-host.service';

/** An invitation the host accepted, and the entry that wrote it (0: the user was invited already, nothing written). */
export interface Invitation {
  logIndex: number;
}

/**
 * What a room's host does for an invite_user: a member of a private room lets another user see
 * and join it, as one room_invite entry in the room's log. Public rooms need no invitation and
 * direct rooms are for their two people only: both are refused. Inviting someone already invited
 * writes nothing (a retry is answered the same). Serves local clients and peers.
 */
@Injectable()
export class RoomInvites {
  constructor(
    private readonly host: RoomHostService,
    private readonly members: MemberRepository,
    private readonly privacy: RoomPrivacyRepository,
    private readonly logs: RoomLogs,
    private readonly clock: Clock,
  ) {}

  /** Checked and written inside RoomLogs.serve: a host just elected waits until it applied what was committed before it. */
  invite(roomId: string, username: string, member: string): Promise<Invitation> {
    return this.logs.serve(roomId, () => this.inviteNow(roomId, username, member));
  }

  private async inviteNow(roomId: string, username: string, member: string): Promise<Invitation> {
    this.host.activeHostedRoom(roomId);
    const privacy = this.privacy.privacyOf(roomId);
    // the requester must be in the room; for a private room a non-member learns nothing else
    if (!this.members.getMember(roomId, username)) throw privacy ? new ChatError('ROOM_NOT_FOUND', 'Room not found') : new ChatError('NOT_MEMBER', 'You are not a member of this room');
    if (!privacy) throw new ChatError('INVALID_STATE', 'This room is public: anyone may join it without an invitation');
    if (privacy.direct) throw new ChatError('INVALID_STATE', 'A direct conversation is for its two people only: nobody else can be invited');
    if (this.privacy.isInvited(roomId, member)) return { logIndex: 0 };
    const data: RoomInviteData = { username: member, invited_by: username, invited_at: this.clock.iso() };
    const { entry } = await this.logs.propose(roomId, { kind: ROOM_INVITE, data });
    return { logIndex: entry.index };
  }
}
