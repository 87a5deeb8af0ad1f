import type { Frame } from '../support/test-client';
import type { StoredMessage } from './node-store';

/**
 * The edits and deletions part of the fault suites' ledger (AckLedger.edits): every edit_message /
 * delete_message a watched client sent, the answers it got (edit_message_success,
 * delete_message_success) and the message_edited / message_deleted events it was shown, and
 * editViolations, which checks them against one (agreed) copy of a room. A message nobody tried
 * to edit or delete is checked exactly as before (its stored content is the sent one).
 */

/** One edit_message or delete_message sent (retries included, in sending order). */
interface ChangeIntent {
  label: string;
  /** undefined for a deletion. */
  content: string | undefined;
}

/** One edit_message_success: the position in the message's intents of the edit it answered. */
interface EditAck {
  label: string;
  message_id: string;
  edited_at: string;
  /** Index into the message's edit intents of the last edit sent before the answer arrived. */
  intent: number;
}

const key = (room: string, messageId: string) => `${room}\u0000${messageId}`;

export class EditLedger {
  /** By room + message_id: the edits sent, in order. */
  private readonly editIntents = new Map<string, ChangeIntent[]>();
  /** By room + message_id: deletions sent. */
  private readonly deleteIntents = new Set<string>();
  readonly editAcks = new Map<string, EditAck[]>();
  /** By room + message_id: deletions answered delete_message_success. */
  readonly deleteAcks = new Set<string>();
  /** message_edited / message_deleted events shown, with the label that got them. */
  readonly events: { label: string; type: string; data: Record<string, any> }[] = [];
  /** Refusals of edits and deletions (the generic error frame). */
  readonly errors: { label: string; data: Record<string, any> }[] = [];

  /** Notes an outgoing frame of a watched client (only edit_message / delete_message matter). */
  outgoing(type: string, d: Record<string, any> | undefined, label: string): void {
    if (!d?.room_id || !d.message_id) return;
    const k = key(d.room_id, d.message_id);
    if (type === 'edit_message') this.editIntents.set(k, [...(this.editIntents.get(k) ?? []), { label, content: d.content }]);
    else if (type === 'delete_message') this.deleteIntents.add(k);
  }

  /** Notes an incoming frame of a watched client. */
  record(frame: Frame, label: string): void {
    const d = frame.data ?? {};
    const k = key(d.room_id, d.message_id);
    if (frame.type === 'edit_message_success') {
      const acks = this.editAcks.get(k) ?? [];
      acks.push({ label, message_id: d.message_id, edited_at: d.edited_at, intent: (this.editIntents.get(k)?.length ?? 0) - 1 });
      this.editAcks.set(k, acks);
    } else if (frame.type === 'delete_message_success') this.deleteAcks.add(k);
    else if (frame.type === 'message_edited' || frame.type === 'message_deleted') this.events.push({ label, type: frame.type, data: d });
    else if (frame.type === 'error' && (d.request === 'edit_message' || d.request === 'delete_message')) this.errors.push({ label, data: d });
  }

  /** True when someone tried to edit or delete this message (its content may then differ from the sent one). */
  touched(room: string, messageId: string): boolean {
    return this.editIntents.has(key(room, messageId)) || this.deleteIntents.has(key(room, messageId));
  }

  /** The contents a message may show: the sent one, any edit of it, '' once deleted. */
  contentsOf(room: string, messageId: string, original: string | undefined): string[] {
    const edits = (this.editIntents.get(key(room, messageId)) ?? []).map((e) => e.content!);
    return [...(original === undefined ? [] : [original]), ...edits, ...(this.deleteIntents.has(key(room, messageId)) ? [''] : [])];
  }

  /** A stored message's content explained by the edits and deletions sent (false for untouched messages). */
  explains(room: string, m: StoredMessage): boolean {
    if (m.deleted_at) return this.deleteIntents.has(key(room, m.message_id));
    return (this.editIntents.get(key(room, m.message_id)) ?? []).some((e) => e.content === m.content);
  }

  /** One line for a test's log. */
  summary(): string {
    const n = (m: Map<string, unknown[]>) => [...m.values()].reduce((s, v) => s + v.length, 0);
    return `${n(this.editIntents)} edits sent, ${n(this.editAcks)} acked, ${this.deleteIntents.size} deletions sent, ${this.deleteAcks.size} acked, ${this.events.length} events shown, ${this.errors.length} refused`;
  }

  /** Everything wrong with the edits and deletions of one room against one (agreed) copy of it. */
  violations(roomId: string, messages: StoredMessage[]): string[] {
    const out: string[] = [];
    const byId = new Map(messages.map((m) => [m.message_id, m]));
    for (const m of messages) {
      const k = key(roomId, m.message_id);
      if (m.deleted_at && !this.deleteIntents.has(k)) out.push(`${roomId} seq ${m.sequence_number} (${m.message_id}) deleted, but nobody sent delete_message for it`);
      if (m.deleted_at && m.content) out.push(`${roomId} seq ${m.sequence_number} (${m.message_id}) is a tombstone still holding content ${JSON.stringify(m.content)}`);
      if (!m.deleted_at && m.edited_at && !this.editIntents.has(k)) out.push(`${roomId} seq ${m.sequence_number} (${m.message_id}) edited_at set, but nobody sent edit_message for it`);
      if (!m.deleted_at && m.edited_at && this.editIntents.has(k) && !this.explains(roomId, m)) out.push(`${roomId} seq ${m.sequence_number} (${m.message_id}) holds ${JSON.stringify(m.content)}, no edit sent that`);
    }
    for (const k of this.deleteAcks) {
      const [room, id] = k.split('\u0000');
      if (room !== roomId) continue;
      const m = byId.get(id);
      if (!m) out.push(`acked deletion of ${id} in ${roomId}: the message is gone (a tombstone must stay at its sequence)`);
      else if (!m.deleted_at) out.push(`acked deletion of ${id} (seq ${m.sequence_number}) in ${roomId} not in force: deleted_at unset`);
    }
    for (const [k, acks] of this.editAcks) {
      const [room, id] = k.split('\u0000');
      if (room !== roomId) continue;
      const m = byId.get(id);
      if (!m) {
        out.push(`acked edit of ${id} in ${roomId}: the message is gone`);
        continue;
      }
      if (m.deleted_at) continue; // a deletion (sent later) overrides the edit
      const intents = this.editIntents.get(k) ?? [];
      for (const a of acks) {
        const allowed = intents.slice(Math.max(0, a.intent)).map((e) => e.content);
        if (!m.edited_at || !allowed.includes(m.content)) {
          out.push(`acked edit of ${id} (seq ${m.sequence_number}) in ${roomId} to ${JSON.stringify(intents[a.intent]?.content)} not in force: holds ${JSON.stringify(m.content)}, edited_at ${m.edited_at}`);
        }
      }
    }
    for (const e of this.events.filter((x) => x.data.room_id === roomId)) {
      const m = byId.get(e.data.message_id);
      if (!m || m.sequence_number !== Number(e.data.sequence_number)) out.push(`${e.label} was shown ${e.type} of ${e.data.message_id} at seq ${e.data.sequence_number} in ${roomId}, the room holds ${m ? `it at ${m.sequence_number}` : 'no such message'}`);
      else if (e.type === 'message_deleted' && !m.deleted_at) out.push(`${e.label} was shown message_deleted of ${m.message_id} (seq ${m.sequence_number}) in ${roomId}, not deleted in the room`);
      else if (e.type === 'message_edited' && !(this.editIntents.get(key(roomId, m.message_id)) ?? []).some((x) => x.content === e.data.content)) {
        out.push(`${e.label} was shown message_edited of ${m.message_id} in ${roomId} with ${JSON.stringify(e.data.content)}, no edit sent that`);
      } else if (e.type === 'message_edited' && !m.deleted_at && !m.edited_at) out.push(`${e.label} was shown message_edited of ${m.message_id} in ${roomId}, the room holds it unedited`);
    }
    return out;
  }
}
