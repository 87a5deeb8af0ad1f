import type { NodeProcess } from '../../src/cluster/node-process';
import { eventually } from '../support/cluster';
import type { Frame, TestClient } from '../support/test-client';
import { EditLedger } from './edit-ledger';
import { historyVia } from './failover-member';
import { readRooms, readRoomStates, type StoredMessage } from './node-store';
import { RoomStateLedger } from './room-state-ledger';

/**
 * Shared checker for failover fault tests: what every client was acknowledged and shown (AckLedger),
 * a member that retries sends with the same client_message_id across failovers and dead nodes
 * (FailoverMember), and the cluster-wide check against every node's chat.db and get_history
 * (checkCluster). In short (more in test/durability/failover.e2e-spec.ts):
 *   const ledger = new AckLedger();
 *   const m = await FailoverMember.connect(ledger, 'alice', cluster.nodes, cluster.node(2));
 *   await m.join(room); await m.send(room, 'hi');           // retried with the same client_message_id
 *   const stop = watchHostClaims(ledger, cluster.nodes, [room]); ... fault ... stop();
 *   await checkCluster(survivors, [room], ledger);          // waits for convergence, then asserts
 */

/** One message_sent a client received, with what it had sent under that client_message_id. */
export interface AckRecord {
  room_id: string;
  client_message_id: string;
  sequence_number: number;
  message_id: string;
  content: string | undefined;
  username: string | undefined;
  /** The ledger label of the client that got it. */
  label: string;
  /** Date.now() when it arrived. */
  at: number;
}

/** One new_message a client was shown. */
export interface ShownRecord {
  room_id: string;
  sequence_number: number;
  message_id: string;
  content: string;
  label: string;
}

const key = (room: string, cmid: string) => `${room}\u0000${cmid}`;

/** Records every acknowledgement, error, host change and new_message of the clients it watches. */
export class AckLedger {
  /** By room + client_message_id: the first ack (later acks must name the same sequence and message_id). */
  readonly acks = new Map<string, AckRecord>();
  /** Every message_sent any watched client got, duplicates and repeats included, in arrival order. */
  readonly allAcks: AckRecord[] = [];
  /** Every message_error any watched client got, with its label. */
  readonly errors: { label: string; data: Record<string, any> }[] = [];
  readonly shown: ShownRecord[] = [];
  /** Every room_host_changed any watched client got. */
  readonly hostChanges: { label: string; room_id: string; admin_node: string; host_epoch: number; at: number }[] = [];
  /** By room + epoch: the host each node's database named for it, and which node said so. */
  readonly hostClaims = new Map<string, Map<string, string>>();
  /** message_sent frames that said duplicate: true (a retry of something already stored). */
  duplicateAcks = 0;
  /** Things that are wrong the moment they are seen (two different acks for one id, ...). */
  readonly violations: string[] = [];
  /** edit_message / delete_message sent, their answers and the message_edited / message_deleted shown (edit-ledger.ts). */
  readonly edits = new EditLedger();
  /** ban_member / unban_member, add_moderator, mark_read, invite_user sent, their answers and events (room-state-ledger.ts). */
  readonly roomState = new RoomStateLedger();
  private readonly intents = new Map<string, { content: string; username: string }>();
  /** By room + sequence: the first ack naming it (another message acked at that sequence is a violation). */
  private readonly ackedSequences = new Map<string, AckRecord>();

  /** Starts recording `client`'s frames (and its outgoing send_message contents) under `label`; returns the client. */
  watch(client: TestClient, label: string): TestClient {
    // a reset connection (kill -9 of its node) emits 'error' after open; unhandled it would crash jest
    client.ws.on('error', () => undefined);
    const send = client.send.bind(client);
    client.send = (type: string, data?: unknown) => {
      const d = data as Record<string, any> | undefined;
      if (type === 'send_message' && d?.client_message_id) this.intend(d.room_id, d.client_message_id, d.content, d.username);
      this.edits.outgoing(type, d, label);
      this.roomState.outgoing(type, d, label);
      send(type, data);
    };
    client.ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      this.record(frame, label);
      this.edits.record(frame, label);
      this.roomState.record(frame, label);
    });
    return client;
  }

  /** Notes what is sent under a client_message_id (watch does this for every send it sees). */
  intend(room: string, cmid: string, content: string, username: string): void {
    const before = this.intents.get(key(room, cmid));
    if (before && (before.content !== content || before.username !== username)) this.violations.push(`client_message_id ${cmid} in ${room} reused for a different message`);
    this.intents.set(key(room, cmid), { content, username });
  }

  /** Notes that node `by` names `host` as the room's host at `epoch`; a different host for the same epoch is a violation. */
  claim(room: string, epoch: number, host: string, by: string): void {
    const claims = this.hostClaims.get(`${room}@${epoch}`) ?? new Map<string, string>();
    this.hostClaims.set(`${room}@${epoch}`, claims);
    const other = [...claims].find(([h]) => h !== host);
    if (other && !claims.has(host)) this.violations.push(`TWO HOSTS IN ONE EPOCH: ${room} epoch ${epoch}: ${other[1]} said ${other[0]}, ${by} said ${host}`);
    if (!claims.has(host)) claims.set(host, by);
  }

  /** One line for a test's log: acks, retryable errors, duplicates. */
  summary(): string {
    return `${this.acks.size} acked, ${this.errors.length} message_error (retried), ${this.duplicateAcks} duplicate acks, ${this.shown.length} new_message shown`;
  }

  /** The ack of a client_message_id in a room, if one arrived. */
  ackOf(room: string, cmid: string): AckRecord | undefined {
    return this.acks.get(key(room, cmid));
  }

  /** Every client_message_id sent to `room` (acknowledged or not). */
  sentIds(room: string): string[] {
    return [...this.intents.keys()].filter((k) => k.startsWith(`${room}\u0000`)).map((k) => k.slice(room.length + 1));
  }

  /** Every ack of one room, ordered by sequence number. */
  acksIn(room: string): AckRecord[] {
    return [...this.acks.values()].filter((a) => a.room_id === room).sort((a, b) => a.sequence_number - b.sequence_number);
  }

  /** The sequence numbers `label` was shown in `room`, ascending, each once. */
  shownTo(label: string, room: string): number[] {
    return [...new Set(this.shown.filter((s) => s.label === label && s.room_id === room).map((s) => s.sequence_number))].sort((a, b) => a - b);
  }

  /** The highest sequence `label` was shown with nothing missing from its first shown one (since_sequence to resume with). */
  resumePoint(label: string, room: string): number {
    const seqs = this.shownTo(label, room);
    let at = seqs.length > 0 ? seqs[0] - 1 : 0;
    for (const s of seqs) if (s === at + 1) at = s;
    return at;
  }

  /** Sequence numbers missing between the first and the last message `label` was shown in `room`. */
  shownGaps(label: string, room: string): number[] {
    const seqs = this.shownTo(label, room);
    const have = new Set(seqs);
    const gaps: number[] = [];
    for (let s = seqs[0] ?? 1; s <= (seqs[seqs.length - 1] ?? 0); s++) if (!have.has(s)) gaps.push(s);
    return gaps;
  }

  /** Sequence numbers `label` was shown more than once in `room` (a resume that replayed what it had). */
  shownRepeats(label: string, room: string): number[] {
    const seen = new Set<number>();
    const twice = new Set<number>();
    for (const s of this.shown) if (s.label === label && s.room_id === room) (seen.has(s.sequence_number) ? twice : seen).add(s.sequence_number);
    return [...twice].sort((a, b) => a - b);
  }

  /** Every label that was shown anything in `room`. */
  labelsIn(room: string): string[] {
    return [...new Set(this.shown.filter((s) => s.room_id === room).map((s) => s.label))];
  }

  private record(frame: Frame, label: string): void {
    const d = frame.data ?? {};
    if (frame.type === 'message_sent' && d.client_message_id) {
      const intent = this.intents.get(key(d.room_id, d.client_message_id));
      const ack: AckRecord = { room_id: d.room_id, client_message_id: d.client_message_id, sequence_number: d.sequence_number, message_id: d.message_id, content: intent?.content, username: intent?.username, label, at: Date.now() };
      if (d.duplicate) this.duplicateAcks++;
      this.allAcks.push(ack);
      const atSeq = this.ackedSequences.get(`${d.room_id}@${d.sequence_number}`);
      if (!atSeq) this.ackedSequences.set(`${d.room_id}@${d.sequence_number}`, ack);
      else if (atSeq.message_id !== ack.message_id || atSeq.client_message_id !== ack.client_message_id) {
        const clash = `ONE SEQUENCE ACKED FOR TWO MESSAGES: ${d.room_id} seq ${d.sequence_number} acked to ${atSeq.label} for ${atSeq.client_message_id}/${atSeq.message_id}, then to ${label} for ${ack.client_message_id}/${ack.message_id}`;
        if (!this.violations.includes(clash)) this.violations.push(clash); // once, however often the retries are acked
      }
      const first = this.acks.get(key(d.room_id, d.client_message_id));
      if (!first) this.acks.set(key(d.room_id, d.client_message_id), ack);
      else if (first.sequence_number !== ack.sequence_number || first.message_id !== ack.message_id) {
        this.violations.push(`${d.client_message_id} in ${d.room_id} acked twice differently: seq ${first.sequence_number}/${first.message_id} then ${ack.sequence_number}/${ack.message_id}`);
      }
    } else if (frame.type === 'message_error') {
      this.errors.push({ label, data: d });
    } else if (frame.type === 'new_message') {
      this.shown.push({ room_id: d.room_id, sequence_number: d.sequence_number, message_id: d.message_id, content: d.content, label });
    } else if (frame.type === 'room_host_changed') {
      this.hostChanges.push({ label, room_id: d.room_id, admin_node: d.admin_node, host_epoch: d.host_epoch, at: Date.now() });
      const clash = this.hostChanges.find((h) => h.room_id === d.room_id && h.host_epoch === d.host_epoch && h.admin_node !== d.admin_node);
      if (clash) this.violations.push(`room_host_changed for ${d.room_id} epoch ${d.host_epoch} named both ${clash.admin_node} and ${d.admin_node}`);
    }
  }
}

export { FailoverMember, historyVia, isRetryable, type MemberOptions } from './failover-member';
export { failoverSeed, mulberry32, SeededRandom } from './seeded-random';
export { watchHostClaims } from './host-claims';
export { readRooms, readRoomStates, type RoomCopy, type RoomStateCopy, type StoredMessage, type StoredRoom } from './node-store';

export interface CheckOptions {
  /** How long to wait for the nodes to converge before failing with what still differs. */
  timeoutMs?: number;
  /** Node whose get_history is compared with the databases (default: the first node given). */
  historyNode?: NodeProcess;
  /** Violations found elsewhere (e.g. sends never acknowledged), reported together with the cluster's. */
  also?: string[];
  /** The rooms compared through get_history (default: all; a private room's probe may not join it). */
  historyRooms?: string[];
}

/** A message as compared between nodes and get_history; edited_at / deleted_at only when set (untouched rows as before). */
const row = (m: StoredMessage) => `${m.sequence_number}|${m.message_id}|${m.content}${m.edited_at ? `|edited ${m.edited_at}` : ''}${m.deleted_at ? `|deleted ${m.deleted_at}` : ''}`;

/** Everything wrong with `roomIds` across `nodes` (databases only: messages, and the room states of AckLedger.roomState), as sentences; [] when consistent. */
export function clusterViolations(nodes: NodeProcess[], roomIds: string[], ledger: AckLedger): string[] {
  const views = nodes.map((n) => readRooms(n, roomIds));
  const states = nodes.map((n) => readRoomStates(n, roomIds));
  for (const v of views.flat()) if (v.room) ledger.claim(v.room.room_id, Number(v.room.host_epoch), v.room.host_node, v.node);
  const out = [...ledger.violations];
  roomIds.forEach((roomId, i) => {
    const perNode = views.map((v) => v[i]);
    for (const v of perNode) {
      if (!v.room) {
        out.push(`${v.node}: room ${roomId} missing`);
        continue;
      }
      v.messages.forEach((m, at) => {
        if (Number(m.sequence_number) !== at + 1) out.push(`${v.node} ${roomId}: sequence ${m.sequence_number} at position ${at + 1} (not contiguous from 1)`);
      });
      if (Number(v.room.last_sequence) !== v.messages.length) out.push(`${v.node} ${roomId}: last_sequence ${v.room.last_sequence} but ${v.messages.length} messages`);
    }
    const [first, ...rest] = perNode.filter((v) => v.room);
    if (!first) return;
    for (const v of rest) {
      if (v.messages.length !== first.messages.length) out.push(`${roomId}: ${first.node} has ${first.messages.length} messages, ${v.node} ${v.messages.length}`);
      const diff = v.messages.findIndex((m, at) => !first.messages[at] || row(m) !== row(first.messages[at]));
      if (diff >= 0) out.push(`${roomId}: ${first.node} and ${v.node} differ at sequence ${diff + 1}: ${first.messages[diff] ? row(first.messages[diff]) : '-'} vs ${row(v.messages[diff])}`);
      if (v.room!.host_node !== first.room!.host_node || Number(v.room!.host_epoch) !== Number(first.room!.host_epoch)) {
        out.push(`${roomId} host not agreed: ${first.node} says ${first.room!.host_node}@${first.room!.host_epoch}, ${v.node} ${v.room!.host_node}@${v.room!.host_epoch}`);
      }
    }
    out.push(...ledgerAgainst(roomId, first.messages, ledger));
    out.push(...ledger.roomState.violations(roomId, states.map((s) => s[i]), first.messages.length));
  });
  return out;
}

/** The ledger's acks and shown messages of one room checked against one (agreed) history. */
function ledgerAgainst(roomId: string, messages: StoredMessage[], ledger: AckLedger): string[] {
  const out: string[] = [];
  const bySeq = new Map(messages.map((m) => [Number(m.sequence_number), m]));
  const cmidCount = new Map<string, number>();
  for (const m of messages) if (m.client_message_id) cmidCount.set(m.client_message_id, (cmidCount.get(m.client_message_id) ?? 0) + 1);
  for (const a of ledger.acksIn(roomId)) {
    const m = bySeq.get(a.sequence_number);
    if (!m) out.push(`acked ${a.client_message_id} (seq ${a.sequence_number}) missing from ${roomId}`);
    else if (m.message_id !== a.message_id || (a.content !== undefined && m.content !== a.content && !ledger.edits.explains(roomId, m)) || m.client_message_id !== a.client_message_id) {
      out.push(`acked ${a.client_message_id} at seq ${a.sequence_number} (${a.message_id}) but the room holds ${m.client_message_id}/${m.message_id} there`);
    }
    if ((cmidCount.get(a.client_message_id) ?? 0) !== 1) out.push(`acked ${a.client_message_id} stored ${cmidCount.get(a.client_message_id) ?? 0} times in ${roomId}`);
  }
  // a retried id that was never acknowledged may be stored once or not at all, never twice
  for (const cmid of ledger.sentIds(roomId)) if ((cmidCount.get(cmid) ?? 0) > 1) out.push(`${cmid} (sent, retried) stored ${cmidCount.get(cmid)} times in ${roomId}`);
  for (const s of ledger.shown.filter((x) => x.room_id === roomId)) {
    const m = bySeq.get(s.sequence_number);
    const original = () => ledger.acksIn(roomId).find((a) => a.message_id === s.message_id)?.content;
    const edited = m && m.content !== s.content && ledger.edits.touched(roomId, m.message_id) && ledger.edits.contentsOf(roomId, m.message_id, original()).includes(s.content);
    if (!m || m.message_id !== s.message_id || (m.content !== s.content && !edited)) out.push(`${s.label} was shown seq ${s.sequence_number} (${s.message_id}) of ${roomId}, the room holds ${m ? m.message_id : 'nothing'} there`);
  }
  for (const label of ledger.labelsIn(roomId)) {
    const gaps = ledger.shownGaps(label, roomId);
    if (gaps.length > 0) out.push(`${label} was never shown ${roomId} seq ${gaps.slice(0, 10).join(',')}${gaps.length > 10 ? '...' : ''} (gap in live delivery)`);
  }
  return [...out, ...ledger.edits.violations(roomId, messages)];
}

/**
 * The failover invariants, on every running node given: waits (bounded) until the databases agree
 * and hold every acked and shown message exactly once at its sequence (and every acked ban, moderator,
 * read marker and invitation: AckLedger.roomState), then checks get_history on one node against
 * them. Fails the test with every violation found.
 */
export async function checkCluster(nodes: NodeProcess[], roomIds: string[], ledger: AckLedger, options: CheckOptions = {}): Promise<void> {
  const live = nodes.filter((n) => n.running);
  if (live.length === 0) throw new Error('checkCluster: no running node to check');
  let violations: string[] = [];
  const also = options.also ?? [];
  await eventually(() => (violations = [...also, ...clusterViolations(live, roomIds, ledger)]).length === 0, options.timeoutMs ?? 15000, 200).catch(() => undefined);
  expect(violations).toEqual([]);
  const historyNode = options.historyNode ?? live[0];
  const stored = readRooms(historyNode, roomIds);
  for (const [i, roomId] of roomIds.entries()) {
    if (options.historyRooms && !options.historyRooms.includes(roomId)) continue;
    const viaHistory = await historyVia(historyNode, roomId);
    expect({ roomId, history: viaHistory.map(row) }).toEqual({ roomId, history: stored[i].messages.map(row) });
  }
}
