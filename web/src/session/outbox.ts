// Messages we sent that the server has not confirmed yet: sent, resent after a reconnect (the
// server de-duplicates by client id), and marked failed, with the reason, when refused.

import { describeError, makeClientMessageId } from '../format';
import type { Frame } from '../protocol';
import { DisconnectedError } from './pending-requests';
import type { OutgoingMessage, RoomState } from './room-state';
import type { MarkGone, SessionContext } from './session-context';

export class Outbox {
  private readonly ctx: SessionContext;
  private readonly markGone: MarkGone;

  constructor(ctx: SessionContext, markGone: MarkGone) {
    this.ctx = ctx;
    this.markGone = markGone;
  }

  /** Queues a message; it is (re)sent until the server confirms it. Returns the client id. */
  send(roomId: string, content: string): string {
    const room = this.ctx.rooms.get(roomId);
    if (!room) throw new Error('You are not in this room.');
    const out: OutgoingMessage = { clientId: makeClientMessageId(), content, state: 'sending' };
    room.outbox.set(out.clientId, out);
    this.ctx.emit({ kind: 'room', room });
    void this.transmit(room, out);
    return out.clientId;
  }

  /** Removes a failed message from the outbox, or retries it. */
  retry(roomId: string, clientId: string, retry: boolean): void {
    const room = this.ctx.rooms.get(roomId);
    const out = room?.outbox.get(clientId);
    if (!room || !out) return;
    if (!retry) room.outbox.delete(clientId);
    else {
      out.state = 'sending';
      out.error = undefined;
      void this.transmit(room, out);
    }
    this.ctx.emit({ kind: 'room', room });
  }

  /** Sends again what is still waiting, once the room can take it. */
  resend(room: RoomState): void {
    if (room.status !== 'joined' || !this.ctx.isOpen()) return;
    for (const out of room.outbox.values()) if (out.state === 'sending') void this.transmit(room, out);
  }

  private async transmit(room: RoomState, out: OutgoingMessage): Promise<void> {
    if (room.status === 'joining' || !this.ctx.isOpen()) return; // sent on resume
    if (room.status !== 'joined' && room.status !== 'unavailable') {
      out.state = 'failed';
      out.error = room.notice ?? 'You are not in this room.';
      this.ctx.emit({ kind: 'room', room });
      return;
    }
    let frame: Frame;
    try {
      frame = await this.ctx.request(
        { type: 'send_message', data: { room_id: room.id, username: this.ctx.username, content: out.content, client_message_id: out.clientId } },
        { types: ['message_sent', 'message_error'], roomId: room.id, clientId: out.clientId },
      );
    } catch (err) {
      if (err instanceof DisconnectedError) return; // stays queued, resent after reconnect
      out.state = 'failed';
      out.error = 'No answer from the server.';
      this.ctx.emit({ kind: 'room', room });
      return;
    }
    const d = (frame.data ?? {}) as Record<string, unknown>;
    if (frame.type === 'message_sent') {
      room.outbox.delete(out.clientId);
      this.ctx.emit({ kind: 'room', room });
      return;
    }
    const code = d.error_code as string | undefined;
    const text =
      frame.type === 'message_error'
        ? describeError(code, d.error as string, { roomName: room.name, adminNode: room.adminNode })
        : describeError(code, d.message as string);
    out.state = 'failed';
    out.error = text;
    this.ctx.emit({ kind: 'notice', level: 'error', text, roomId: room.id, key: code === 'ADMIN_NODE_UNAVAILABLE' ? `avail:${room.id}` : undefined });
    if (code === 'ADMIN_NODE_UNAVAILABLE' && room.status === 'joined') {
      room.status = 'unavailable';
      room.notice = text;
    } else if (code === 'NOT_MEMBER') {
      room.status = 'removed';
      room.notice = text;
    } else if (code === 'ROOM_NOT_FOUND') {
      this.markGone(room, 'deleted', null);
    }
    this.ctx.emit({ kind: 'room', room });
  }
}
