// Edits and deletions of messages, and "is typing" notices: the requests this user makes, and the
// events other members' requests bring. A change reaches the UI as the message's new state, by id;
// typing names expire on their own.

import { describeError } from '../format';
import type { ChatMessage, Frame } from '../protocol';
import type { RoomState } from './room-state';
import type { SessionContext } from './session-context';
import { KeyedTimers } from './timers';

/** What changed in one message: its id and place, and its new text or its deletion. */
export type MessageChange = Pick<ChatMessage, 'message_id' | 'sequence_number' | 'username'> & Partial<Pick<ChatMessage, 'content' | 'edited_at' | 'deleted' | 'deleted_at'>>;

/** We tell the room we are typing at most this often (the server drops more than one a second). */
const TYPING_EVERY_MS = 2000;
/** How long a name stays "typing" when the server did not say. */
const DEFAULT_TYPING_MS = 4000;

export class MessageChanges {
  private readonly ctx: SessionContext;
  /** Rooms we told recently that we are typing. */
  private readonly typingSent = new Set<string>();
  /** The node does not know `typing` (an earlier version): we stop telling it. */
  private typingUnsupported = false;
  /** One expiry per room and typing member. */
  private readonly typingShown: KeyedTimers;

  constructor(ctx: SessionContext) {
    this.ctx = ctx;
    this.typingShown = new KeyedTimers(ctx.timers);
  }

  /** Replaces the text of one of our messages; resolves once the server applied it. Throws a readable Error. */
  async edit(roomId: string, messageId: string, content: string): Promise<void> {
    const frame = await this.ctx.request(
      { type: 'edit_message', data: { room_id: roomId, username: this.ctx.username, message_id: messageId, content } },
      { types: ['edit_message_success', 'error'], roomId },
    );
    this.check(frame, 'edit_message_success', roomId);
  }

  /** Deletes a message (ours, or anyone's in a room we created). Throws a readable Error. */
  async remove(roomId: string, messageId: string): Promise<void> {
    const frame = await this.ctx.request(
      { type: 'delete_message', data: { room_id: roomId, username: this.ctx.username, message_id: messageId } },
      { types: ['delete_message_success', 'error'], roomId },
    );
    this.check(frame, 'delete_message_success', roomId);
  }

  /** We are typing in the room: told at most every couple of seconds; nothing comes back. */
  typing(roomId: string): void {
    const room = this.ctx.rooms.get(roomId);
    if (!room || room.status !== 'joined' || this.typingUnsupported || this.typingSent.has(roomId) || !this.ctx.isOpen()) return;
    this.typingSent.add(roomId);
    this.ctx.timers.set(() => this.typingSent.delete(roomId), TYPING_EVERY_MS);
    this.ctx.send({ type: 'typing', data: { room_id: roomId, username: this.ctx.username } });
  }

  /** True for the refusal of a node that does not know `typing`: nothing to tell the user, we stop sending them. */
  isTypingRefusal(d: Record<string, unknown>): boolean {
    if (d.error_code !== 'UNKNOWN_TYPE' || d.message !== 'Unknown message type: typing') return false;
    this.typingUnsupported = true;
    return true;
  }

  onEdited(room: RoomState, d: Record<string, unknown>): void {
    const change = this.changeOf(d);
    if (!change || typeof d.content !== 'string') return;
    this.changed(room, { ...change, content: d.content, edited_at: String(d.edited_at ?? '') });
  }

  onDeleted(room: RoomState, d: Record<string, unknown>): void {
    const change = this.changeOf(d);
    if (change) this.changed(room, { ...change, content: '', deleted: true, deleted_at: String(d.deleted_at ?? '') });
  }

  /** A message held back for a gap changes where it waits; one shown is redrawn. */
  private changed(room: RoomState, change: MessageChange): void {
    if (!room.buffer.update(change.sequence_number, change)) this.ctx.emit({ kind: 'changed', room, change });
  }

  onTyping(room: RoomState, d: Record<string, unknown>): void {
    const name = typeof d.username === 'string' ? d.username : '';
    if (!name || name === this.ctx.username) return;
    const ms = typeof d.expires_in_ms === 'number' && d.expires_in_ms > 0 ? Math.min(d.expires_in_ms, 30000) : DEFAULT_TYPING_MS;
    const key = `${room.id}\u0000${name}`;
    this.typingShown.cancel(key);
    this.typingShown.schedule(key, ms, () => this.stoppedTyping(room, name));
    if (room.typing.has(name)) return;
    room.typing.add(name);
    this.ctx.emit({ kind: 'typing', room });
  }

  /** A member's message arrived (or their notice expired): they are no longer shown typing. */
  stoppedTyping(room: RoomState, name: string): void {
    this.typingShown.cancel(`${room.id}\u0000${name}`);
    if (room.typing.delete(name)) this.ctx.emit({ kind: 'typing', room });
  }

  cancelAll(): void {
    this.typingShown.cancelAll();
  }

  private changeOf(d: Record<string, unknown>): MessageChange | null {
    if (typeof d.message_id !== 'string' || typeof d.sequence_number !== 'number') return null;
    return { message_id: d.message_id, sequence_number: d.sequence_number, username: String(d.username ?? '') };
  }

  private check(frame: Frame, success: string, roomId: string): void {
    if (frame.type === success) return;
    const d = (frame.data ?? {}) as Record<string, unknown>;
    throw new Error(describeError(d.error_code as string, d.message as string, { roomName: this.ctx.rooms.get(roomId)?.name }));
  }
}
