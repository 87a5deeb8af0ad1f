// Moderation as one member sees it: the kick, ban and mute requests a moderator makes, and the
// events every member gets (moderator_added, member_kicked, member_banned, member_unbanned,
// member_muted). The page learns who moderates a room from the creator it was told and from the
// moderator_added events it saw; the server decides, so a stale guess only costs a refusal.

import { describeError } from '../format';
import type { Frame } from '../protocol';
import type { RoomState } from './room-state';
import type { SessionContext } from './session-context';

export type ModerationRequestType = 'kick_member' | 'ban_member' | 'mute_member';

/** How long the page's Mute button mutes for. */
export const MUTE_SECONDS = 60;

const EVENTS = new Set(['moderator_added', 'member_kicked', 'member_banned', 'member_unbanned', 'member_muted']);

export class Moderation {
  private readonly ctx: SessionContext;

  constructor(ctx: SessionContext) {
    this.ctx = ctx;
  }

  /** True when we may moderate the room, as far as the page knows (the creator, or named in a moderator_added). */
  mayModerate(room: RoomState): boolean {
    return room.creatorId === this.ctx.username || room.moderators.has(this.ctx.username);
  }

  /** Kicks, bans or mutes `member`; resolves once the server applied it. Throws a readable Error. */
  async act(roomId: string, type: ModerationRequestType, member: string): Promise<void> {
    const data = { room_id: roomId, username: this.ctx.username, member, ...(type === 'mute_member' ? { seconds: MUTE_SECONDS } : {}) };
    const frame: Frame = await this.ctx.request({ type, data } as Parameters<SessionContext['request']>[0], { types: [`${type}_success`, 'error'], roomId });
    if (frame.type === `${type}_success`) return;
    const d = (frame.data ?? {}) as Record<string, unknown>;
    throw new Error(describeError(d.error_code as string, d.message as string, { roomName: this.ctx.rooms.get(roomId)?.name }));
  }

  /** True (and handled) when the frame is a moderation event. */
  handle(type: string, room: RoomState | undefined, d: Record<string, unknown>): boolean {
    if (!EVENTS.has(type)) return false;
    const member = typeof d.member === 'string' ? d.member : '';
    if (!room || !member) return true;
    const by = String(d.by ?? 'a moderator');
    const reason = typeof d.reason === 'string' && d.reason ? `: ${d.reason}` : '';
    const self = member === this.ctx.username;
    const who = self ? 'You were' : `${member} was`;
    let text: string;
    switch (type) {
      case 'moderator_added':
        room.moderators.add(member);
        text = `${self ? 'You are' : `${member} is`} now a moderator (appointed by ${by}).`;
        break;
      case 'member_kicked':
      case 'member_banned':
        text = `${who} ${type === 'member_kicked' ? 'removed' : 'banned'} from the room by ${by}${reason}.`;
        if (self) {
          room.status = 'removed';
          room.notice = text + (type === 'member_kicked' ? ' You may join it again.' : '');
          this.ctx.emit({ kind: 'notice', level: 'error', text: room.notice, roomId: room.id });
        }
        room.members.delete(member);
        break;
      case 'member_unbanned':
        text = `${who} unbanned by ${by}.`;
        break;
      default:
        text = `${who} muted by ${by} until ${new Date(String(d.muted_until ?? '')).toLocaleTimeString()}.`;
    }
    this.ctx.emit({ kind: 'system', room, text, timestamp: String(d.timestamp ?? new Date().toISOString()) });
    this.ctx.emit({ kind: 'room', room });
    return true;
  }
}
