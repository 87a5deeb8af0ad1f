import { Injectable, Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { nameProblem } from '../../../common/protocol/chat-names';
import type { ModerateMemberResult } from '../../../common/protocol/peer-wire';
import { isChatText, LIMITS } from '../../../common/protocol/text-limits';
import { MODERATION_ACTIONS, type ModerationAction } from '../replication/room-entries';
import { RoomModeration } from './room-moderation.service';

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
      checkName(username, 'username');
      checkName(member, 'member');
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
    if (e instanceof ChatError) return e;
    this.logger.error(`Peer request failed: ${(e as Error)?.stack ?? e}`);
    return new ChatError('INTERNAL_ERROR', (e as Error)?.message ?? 'Internal error');
  }
}

/** A peer's names follow the clients' rules (the member node checked them; a stranger may not have). */
function checkName(name: string, field: string): void {
  const problem = nameProblem(name, LIMITS.username, field);
  if (problem) throw new ChatError('INVALID_REQUEST', problem);
}
