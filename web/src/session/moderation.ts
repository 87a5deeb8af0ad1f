// Moderation as one member sees it: the requests a moderator makes (appoint, kick, ban, unban,
// mute), who moderates the room and who is banned from it (the join reply's `moderators` and, for
// a moderator, `banned`, then the events), and the events every member gets (moderator_added,
// member_kicked, member_banned, member_unbanned, member_muted) and, after a join or a reload, the
// room's latest ones again (the join reply's `moderation_log`). The server decides, so a stale
// guess only costs a refusal.

import { describeError } from '../format';
import type { Frame } from '../protocol';
import type { RoomState } from './room-state';
import type { SessionContext } from './session-context';

export type ModerationRequestType = 'add_moderator' | 'kick_member' | 'ban_member' | 'unban_member' | 'mute_member';

/** What a moderator adds to a request: a kick's or ban's reason, a mute's length. */
export interface ModerationDetails {
  reason?: string;
  seconds?: number;
}

const EVENTS = new Set(['moderator_added', 'member_kicked', 'member_banned', 'member_unbanned', 'member_muted']);

export class Moderation {
  private readonly ctx: SessionContext;
  /** Joins the room again (from where we are): its reply tells a new moderator the bans made before. */
  private readonly rejoin: (room: RoomState) => void;

  constructor(ctx: SessionContext, rejoin: (room: RoomState) => void) {
    this.ctx = ctx;
    this.rejoin = rejoin;
  }

  /** True when we may moderate the room, as far as the page knows (its creator, or one of its moderators). */
  mayModerate(room: RoomState): boolean {
    return room.creatorId === this.ctx.username || room.moderators.has(this.ctx.username);
  }

  /**
   * Whether we may kick, ban or mute `member` (the server's rule, moderation-rights.ts): not
   * ourselves, never the creator, and another moderator only as the creator.
   */
  mayActOn(room: RoomState, member: string): boolean {
    if (!this.mayModerate(room) || member === this.ctx.username || member === room.creatorId) return false;
    return room.creatorId === this.ctx.username || !room.moderators.has(member);
  }

  /** The join reply's moderators and banned names (a server that does not send them leaves what we knew), and its moderation notices. */
  onJoined(room: RoomState, reply: Record<string, unknown>): void {
    this.noticesJoined(room, reply);
    if (!Array.isArray(reply.moderators)) return;
    room.moderators = new Set(reply.moderators.filter((m): m is string => typeof m === 'string'));
    // sent only to moderators: anyone else is told no names
    room.banned = new Set(Array.isArray(reply.banned) ? reply.banned.filter((m): m is string => typeof m === 'string') : []);
  }

  /** Acts on `member`; resolves once the server applied it. Throws a readable Error. */
  async act(roomId: string, type: ModerationRequestType, member: string, details: ModerationDetails = {}): Promise<void> {
    const reason = details.reason?.trim();
    const data = {
      room_id: roomId,
      username: this.ctx.username,
      member,
      ...((type === 'kick_member' || type === 'ban_member') && reason ? { reason } : {}),
      ...(type === 'mute_member' ? { seconds: details.seconds ?? 60 } : {}),
    };
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
    const self = member === this.ctx.username;
    const text = moderationText(type, d, this.ctx.username);
    switch (type) {
      case 'moderator_added':
        room.moderators.add(member);
        if (self && room.status === 'joined') this.rejoin(room);
        break;
      case 'member_kicked':
      case 'member_banned':
        if (type === 'member_banned') room.banned.add(member);
        if (self) {
          room.status = 'removed';
          room.notice = text + (type === 'member_kicked' ? ' You may join it again.' : '');
          this.ctx.emit({ kind: 'notice', level: 'error', text: room.notice, roomId: room.id });
        }
        room.members.delete(member);
        break;
      case 'member_unbanned':
        room.banned.delete(member);
        break;
    }
    const timestamp = String(d.timestamp ?? new Date().toISOString());
    this.ctx.emit({ kind: 'system', room, text, timestamp, key: noticeKey(type, member, timestamp) });
    this.ctx.emit({ kind: 'room', room });
    return true;
  }

  /**
   * The join reply's moderation_log: the room's latest moderation notices, shown as the live
   * events are, each in its place by time (a notice already shown, live or by an earlier join,
   * has the same key and is not shown twice). Only the lines: the roles they set come with the
   * reply's own lists.
   */
  private noticesJoined(room: RoomState, reply: Record<string, unknown>): void {
    if (!Array.isArray(reply.moderation_log)) return;
    const notices = reply.moderation_log
      .filter((n): n is Record<string, unknown> => typeof n === 'object' && n !== null && EVENTS.has(String(n.type)) && typeof n.member === 'string' && typeof n.timestamp === 'string')
      .map((n) => ({ key: noticeKey(String(n.type), String(n.member), String(n.timestamp)), text: moderationText(String(n.type), n, this.ctx.username), timestamp: String(n.timestamp) }));
    if (notices.length > 0) this.ctx.emit({ kind: 'notices', room, notices });
  }
}

/** What identifies one moderation notice, live or from a join reply (the same action has the same three). */
function noticeKey(type: string, member: string, timestamp: string): string {
  return `${type}|${member}|${timestamp}`;
}

/** The line a moderation event is shown as, to `me` (plain text: the view escapes it). */
export function moderationText(type: string, d: Record<string, unknown>, me: string): string {
  const member = String(d.member ?? '');
  const by = String(d.by ?? 'a moderator');
  const reason = typeof d.reason === 'string' && d.reason ? `: ${d.reason}` : '';
  const self = member === me;
  const who = self ? 'You were' : `${member} was`;
  switch (type) {
    case 'moderator_added':
      return `${self ? 'You are' : `${member} is`} now a moderator (appointed by ${by}).`;
    case 'member_kicked':
    case 'member_banned':
      return `${who} ${type === 'member_kicked' ? 'removed' : 'banned'} from the room by ${by}${reason}.`;
    case 'member_unbanned':
      return `${who} unbanned by ${by}.`;
    default:
      return `${who} muted by ${by} until ${new Date(String(d.muted_until ?? '')).toLocaleTimeString()}.`;
  }
}

/** Lets `member` see and join our private room (invite_user); resolves once the server applied it. Throws a readable Error. */
export async function inviteToRoom(ctx: SessionContext, roomId: string, member: string): Promise<void> {
  const frame = await ctx.request({ type: 'invite_user', data: { room_id: roomId, username: ctx.username, member } }, { types: ['invite_user_success', 'error'], roomId });
  if (frame.type === 'invite_user_success') return;
  const d = (frame.data ?? {}) as Record<string, unknown>;
  const code = d.error_code as string | undefined;
  // INVALID_STATE here: the room is public or direct (nobody needs, or can get, an invitation)
  throw new Error(code === 'INVALID_STATE' ? 'Only a private room takes invitations.' : describeError(code, d.message as string, { roomName: ctx.rooms.get(roomId)?.name }));
}
