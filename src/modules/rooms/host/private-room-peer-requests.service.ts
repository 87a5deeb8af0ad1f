import { Injectable, Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import type { InviteUserResult, OpenDirectResult } from '../../../common/protocol/peer-wire';
import { DirectRoomFounder } from './direct-room-founder.service';
import { RoomInvites } from './room-invites.service';
import { checkPeerName, peerRefusal } from './peer-request-checks';

/**
 * The peer methods of private rooms: invite_user (a member's invitation through another node,
 * checked by the room's host as its own clients' are) and open_direct (served by the pair's
 * founder). Refusals are results (success false + error_code), as for the other peer methods.
 */
@Injectable()
export class PrivateRoomPeerRequests {
  private readonly logger = new Logger(PrivateRoomPeerRequests.name);

  constructor(
    private readonly invites: RoomInvites,
    private readonly founder: DirectRoomFounder,
  ) {}

  async invite(roomId: string, username: string, member: string): Promise<InviteUserResult> {
    try {
      checkPeerName(username, 'username');
      checkPeerName(member, 'member');
      const { logIndex } = await this.invites.invite(roomId, username, member);
      return { success: true, log_index: logIndex };
    } catch (e) {
      const err = this.refusal(e);
      const moved = typeof err.details.admin_node === 'string' ? { admin_node: err.details.admin_node, host_epoch: Number(err.details.host_epoch) } : {};
      return { success: false, error: err.message, error_code: err.code, ...moved };
    }
  }

  async openDirect(username: string, other: string): Promise<OpenDirectResult> {
    try {
      checkPeerName(username, 'username');
      checkPeerName(other, 'with');
      return { success: true, room_id: await this.founder.ensure(username, other) };
    } catch (e) {
      const err = this.refusal(e);
      return { success: false, error: err.message, error_code: err.code };
    }
  }

  private refusal(e: unknown): ChatError {
    return peerRefusal(e, this.logger);
  }
}
