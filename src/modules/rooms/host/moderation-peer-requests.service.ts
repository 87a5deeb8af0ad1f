import { Injectable, Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import type { ModerateMemberResult } from '../../../common/protocol/peer-wire';
import { isChatText, LIMITS } from '../../../common/protocol/text-limits';
import { MODERATION_ACTIONS, type ModerationAction } from '../replication/room-entries';
import { RoomModeration } from './room-moderation.service';
import { checkPeerName, peerRefusal } from './peer-request-checks';

/**
 * The moderate_member peer method: a member's moderation request through another node, checked
 * by the room's host with the same rules as a client's (names, reason, seconds) before
 * RoomModeration decides it. Refusals are results (success false + error_code).
 */
@Injectable()
export class ModerationPeerRequests {
  private readonly logger = new Logger(ModerationPeerRequests.name);

  constructor(private readonly moderation: RoomModeration) {}

  async moderate(roomId: string, username: string, action: string, member: string, reason: string | null, seconds: number | null): Promise<ModerateMemberResult> {
    try {
      if (!MODERATION_ACTIONS.includes(action as ModerationAction)) throw new ChatError('INVALID_REQUEST', `action must be one of ${MODERATION_ACTIONS.join(', ')}`);
      checkPeerName(username, 'username');
      checkPeerName(member, 'member');
      if (reason !== null && !isChatText(reason, LIMITS.moderationReason)) throw new ChatError('INVALID_REQUEST', `reason must be text of at most ${LIMITS.moderationReason} characters`);
      if (action === 'mute' && !(Number.isSafeInteger(seconds) && seconds! >= 1 && seconds! <= LIMITS.muteSeconds)) {
        throw new ChatError('INVALID_REQUEST', `seconds must be a whole number from 1 to ${LIMITS.muteSeconds}`);
      }
      const outcome = await this.moderation.moderate(roomId, {
        action: action as ModerationAction,
        username,
        member,
        ...(reason ? { reason } : {}),
        ...(seconds !== null ? { seconds } : {}),
      });
      return { success: true, log_index: outcome.logIndex, ...(outcome.mutedUntil ? { muted_until: outcome.mutedUntil } : {}) };
    } catch (e) {
      const err = this.refusal(e);
      const moved = typeof err.details.admin_node === 'string' ? { admin_node: err.details.admin_node, host_epoch: Number(err.details.host_epoch) } : {};
      return { success: false, error: err.message, error_code: err.code, ...moved };
    }
  }

  private refusal(e: unknown): ChatError {
    return peerRefusal(e, this.logger);
  }
}
