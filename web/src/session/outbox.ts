// Messages we sent that the server has not confirmed yet: sent, resent after a reconnect (the
// server de-duplicates by client id), resent after a short wait when the server says the refusal
// is temporary (the room's host is switching), and marked failed, with the reason, when refused.

import { describeError, describeWaitingForHost, makeClientMessageId } from '../format';
import type { Frame } from '../protocol';
import { DisconnectedError } from './pending-requests';
import type { OutgoingMessage, RoomState } from './room-state';
import type { MarkGone, SessionContext } from './session-context';
import { KeyedTimers } from './timers';

/** A refusal that names the room's new host (admin_node, host_epoch) moves the room; true if that was news. */
export type HostMoved = (room: RoomState, refusal: Record<string, unknown>) => boolean;

/** Wait before resending after a retryable refusal: the server's retry_after_ms, kept in bounds. */
const RETRY_DEFAULT_MS = 500;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 3000;
/** Retryable refusals for this long in a row: the room is not coming back soon, say so. */
const RETRY_GIVE_UP_MS = 60000;
const WAITING_NOTE = 'waiting for the room’s host (retrying)…';

export class Outbox {
  private readonly ctx: SessionContext;
  private readonly markGone: MarkGone;
  private readonly hostMoved: HostMoved;
  /** One pending resend per message (keyed by client id). */
  private readonly retries: KeyedTimers;

  constructor(ctx: SessionContext, markGone: MarkGone, hostMoved: HostMoved) {
    this.ctx = ctx;
    this.markGone = markGone;
    this.hostMoved = hostMoved;
    this.retries = new KeyedTimers(ctx.timers);
  }

  cancelAll(): void {
    this.retries.cancelAll();
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
      out.retryWaitedMs = 0;
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
    this.retries.cancel(out.clientId); // sent now: a resend already planned would only repeat it
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
    if (room.outbox.get(out.clientId) !== out) return; // a late refusal: another attempt was confirmed
    if (frame.type === 'message_error' && d.retryable === true) {
      if (this.hostMoved(room, d)) return; // the room moved: what waits for it (this one too) was just resent there
      if (this.retryLater(room, out, d.retry_after_ms)) return;
    }
    const code = d.error_code as string | undefined;
    const text =
      frame.type === 'message_error'
        ? describeError(code, d.error as string, { roomName: room.name, adminNode: room.adminNode })
        : describeError(code, d.message as string);
    out.state = 'failed';
    out.error = text;
    out.note = undefined;
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

  /**
   * The server could not commit the message yet (its host is dead or being replaced) and says a
   * retry will work: keep it queued and send it again, with the same client id, after a short wait.
   * False once it has waited too long (the caller then marks it failed).
   */
  private retryLater(room: RoomState, out: OutgoingMessage, retryAfterMs: unknown): boolean {
    const asked = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) ? retryAfterMs : RETRY_DEFAULT_MS;
    const delay = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, asked));
    const waited = (out.retryWaitedMs ?? 0) + delay;
    if (waited > RETRY_GIVE_UP_MS) return false;
    out.retryWaitedMs = waited;
    if (out.note === undefined) {
      out.note = WAITING_NOTE;
      this.ctx.emit({ kind: 'room', room });
      this.ctx.emit({
        kind: 'notice',
        level: 'info',
        text: describeWaitingForHost(room.name, 'your messages will be sent as soon as it can take them.'),
        roomId: room.id,
        key: `avail:${room.id}`,
      });
    }
    this.retries.schedule(out.clientId, delay, () => {
      if (room.outbox.get(out.clientId) === out && out.state === 'sending' && this.ctx.rooms.get(room.id) === room) void this.transmit(room, out);
    });
    return true;
  }
}
