import { Injectable } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { ChatError } from '../../../common/errors/chat-error';
import { MemberRepository } from '../../../common/store/member.repository';
import { RoomModerationRepository } from '../../../common/store/room-moderation.repository';
import { RoomPrivacyRepository } from '../../../common/store/room-privacy.repository';
import { MODERATION, type ModerationAction, type ModerationData } from '../replication/room-entries';
import { RoomLogs } from '../replication/room-logs.service';
import { moderationRefusal } from './moderation-rights';
import { RoomHostService } from './room-host.service';

/** One moderation request as the room's host receives it. */
export interface ModerationRequest {
  action: ModerationAction;
  /** The acting user. */
  username: string;
  member: string;
  reason?: string;
  /** mute: how long, from the host's clock now. */
  seconds?: number;
}

/** A moderation action the host accepted, and the entry that wrote it (0: already so, nothing written). */
export interface ModerationOutcome {
  logIndex: number;
  mutedUntil?: string;
}

/**
 * What a room's host does for a moderation request: checks it against what every node applied
 * (the actor is a member, and may: moderation-rights.ts), writes one moderation entry into the
 * room's log and answers once a majority stored it. Only the host's clock turns a mute's seconds
 * into its expiry, so every node refuses the same sends. Serves local clients and peers.
 */
@Injectable()
export class RoomModeration {
  constructor(
    private readonly host: RoomHostService,
    private readonly members: MemberRepository,
    private readonly moderation: RoomModerationRepository,
    private readonly logs: RoomLogs,
    private readonly clock: Clock,
    private readonly privacy: RoomPrivacyRepository,
  ) {}

  /** Checked and written inside RoomLogs.serve: a host just elected waits until it applied what was committed before it. */
  moderate(roomId: string, req: ModerationRequest): Promise<ModerationOutcome> {
    return this.logs.serve(roomId, () => this.moderateNow(roomId, req));
  }

  private async moderateNow(roomId: string, req: ModerationRequest): Promise<ModerationOutcome> {
    const room = this.host.activeHostedRoom(roomId);
    if (!this.members.getMember(roomId, req.username)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    const refusal = moderationRefusal(req.action, req.username, req.member, {
      creatorId: room.creatorId,
      isModerator: (u) => this.moderation.isModerator(roomId, u),
      direct: this.privacy.privacyOf(roomId)?.direct === true,
    });
    if (refusal) throw refusal;
    if (this.alreadyInForce(roomId, req)) return { logIndex: 0 };
    const now = this.clock.now();
    const data: ModerationData = {
      action: req.action,
      member: req.member,
      by: req.username,
      ...(req.reason ? { reason: req.reason } : {}),
      ...(req.action === 'mute' ? { muted_until: this.clock.iso(now + (req.seconds ?? 0) * 1000) } : {}),
      timestamp: this.clock.iso(now),
    };
    const { entry } = await this.logs.propose(roomId, { kind: MODERATION, data });
    return { logIndex: entry.index, ...(data.muted_until ? { mutedUntil: data.muted_until } : {}) };
  }

  /** A retry, or nothing to do: answered without a new entry. A kick needs the member in the room. */
  private alreadyInForce(roomId: string, req: ModerationRequest): boolean {
    switch (req.action) {
      case 'add_moderator':
        return this.moderation.isModerator(roomId, req.member);
      case 'unban':
        return !this.moderation.isBanned(roomId, req.member);
      case 'kick':
        if (!this.members.getMember(roomId, req.member)) throw new ChatError('NOT_IN_ROOM', `${req.member} is not in this room`);
        return false;
      case 'ban':
        return this.moderation.isBanned(roomId, req.member) && !this.members.getMember(roomId, req.member);
      default:
        return false; // a mute restarts its time
    }
  }
}
