import { Inject, Injectable, Logger } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { MemberEvent } from '../../../common/protocol/client-wire';
import { toChatMessage } from '../../../common/protocol/record-mappers';
import type { MessageRecord } from '../../../common/store/chat-records';
import { MemberRepository } from '../../../common/store/member.repository';
import { MessageRepository } from '../../../common/store/message.repository';
import { ReadMarkerRepository } from '../../../common/store/read-marker.repository';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { StoreTransactions } from '../../../common/store/store-transactions';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { ClientRegistry } from '../../members/client-registry';
import type { Entry } from '../consensus/log-entry';
import { MessageChangeApplier } from './message-changes';
import { ReadMarkerApplier } from './read-marker-applier';
import { RoomInviteApplier } from './room-invite-applier';
import { ModerationApplier } from './moderation-applier';
import { RoomModerationRepository } from '../../../common/store/room-moderation.repository';
import { RoomPrivacyRepository } from '../../../common/store/room-privacy.repository';
import { isTrimmedMessage, MEMBER_JOINED, MODERATION_ACTIONS, MEMBER_LEFT, MESSAGE, MESSAGE_DELETED, MESSAGE_EDITED, MODERATION, READ_MARKER, ROOM, ROOM_DELETED, ROOM_INVITE, TRIM, type MemberJoinedData, type MemberLeftData, type ModerationData, type RoomData, type RoomDeletedData, type StoredMessageData, type TrimData } from './room-entries';
import { SequenceWaiters } from './sequence-waiters';

/** The changes chat_room_changes_total counts, by entry kind (a moderation entry counts as its action). */
const CHANGE_NAMES: Partial<Record<string, string>> = { [MESSAGE_EDITED]: 'edit', [MESSAGE_DELETED]: 'delete', [READ_MARKER]: 'read_marker', [ROOM_INVITE]: 'invite' };

/** Where the room's host stands when an entry is applied (stored with a room's first entry, for routing). */
export interface HostHint {
  node: string;
  epoch: number;
}

/**
 * The room as its committed entries made it: every node applies the same entries in the same
 * order to rooms, members and messages, inside the write that records how far it applied. Local
 * members see what was applied once that write has committed (StoreTransactions.afterCommit), in order:
 * nobody is ever shown an entry that is not committed.
 */
@Injectable()
export class LogApplier {
  private readonly logger = new Logger(LogApplier.name);
  /** Clients on this node waiting to be told of their own message after they saw it (message_sent after new_message). */
  readonly sequences = new SequenceWaiters();
  /** Edits and deletions of messages (and who waits for them to be applied here). */
  readonly changes: MessageChangeApplier;
  /** Users' read markers (their waiters are the changes' waiters). */
  private readonly readMarkers: ReadMarkerApplier;
  /** Private rooms and their invitations (their waiters are the changes' waiters). */
  private readonly invites: RoomInviteApplier;
  /** Moderators, kicks, bans and mutes (their waiters are the changes' waiters). */
  private readonly moderation: ModerationApplier;
  /** Messages committed in rooms hosted here since start (chat_messages_total; read at scrape time). */
  hostedMessages = 0;
  /** Edits, deletions, read markers, invitations and moderation actions committed in rooms hosted here, by change (chat_room_changes_total). */
  readonly hostedChanges = new Map<string, number>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly transactions: StoreTransactions,
    private readonly rooms: RoomRepository,
    private readonly messages: MessageRepository,
    private readonly members: MemberRepository,
    private readonly tombstones: TombstoneRepository,
    private readonly clients: ClientRegistry,
    private readonly storedLogs: RoomLogRepository,
    markers: ReadMarkerRepository,
    privacy: RoomPrivacyRepository,
    moderation: RoomModerationRepository,
  ) {
    this.changes = new MessageChangeApplier(transactions, rooms, messages, storedLogs, clients);
    this.readMarkers = new ReadMarkerApplier(transactions, markers, clients, this.changes.applied);
    this.invites = new RoomInviteApplier(transactions, rooms, privacy, clients, this.changes.applied);
    this.moderation = new ModerationApplier(transactions, rooms, members, moderation, clients, this.changes.applied);
  }

  /** Applies one committed entry; returns true when it deleted the room (its log is gone). */
  apply(roomId: string, entry: Entry, host: HostHint): boolean {
    if (host.node === this.config.nodeId) this.countChange(entry);
    switch (entry.kind) {
      case ROOM:
        this.applyRoom(roomId, entry.data as RoomData, host);
        return false;
      case MESSAGE:
        if (this.applyMessage(roomId, entry) && host.node === this.config.nodeId) this.hostedMessages++;
        return false;
      case MEMBER_JOINED:
        this.applyJoin(roomId, entry.data as MemberJoinedData);
        return false;
      case MEMBER_LEFT:
        this.applyLeave(roomId, entry.data as MemberLeftData);
        return false;
      case ROOM_DELETED:
        this.applyDeletion(roomId, entry.data as RoomDeletedData, host);
        return true;
      case TRIM:
        this.applyTrim(roomId, entry.index, entry.data as TrimData | null);
        return false;
      case MESSAGE_EDITED:
        this.changes.applyEdit(roomId, entry);
        return false;
      case MESSAGE_DELETED:
        this.changes.applyDelete(roomId, entry);
        return false;
      case READ_MARKER:
        this.readMarkers.apply(roomId, entry, this.rooms.getRoom(roomId) !== null);
        return false;
      case ROOM_INVITE:
        this.invites.applyInvite(roomId, entry);
        return false;
      case MODERATION:
        this.moderation.apply(roomId, entry);
        return false;
      default:
        return false; // noop, promote, or a kind from a newer node: nothing to show
    }
  }

  private countChange(entry: Entry): void {
    const action = entry.kind === MODERATION ? (entry.data as ModerationData | null)?.action : undefined;
    // a label only from a known set: an action from a newer node is not counted
    const change = CHANGE_NAMES[entry.kind] ?? (action !== undefined && MODERATION_ACTIONS.includes(action) ? action : undefined);
    if (change !== undefined) this.hostedChanges.set(change, (this.hostedChanges.get(change) ?? 0) + 1);
  }

  private applyRoom(roomId: string, d: RoomData, host: HostHint): void {
    const known = this.rooms.getRoom(roomId);
    this.rooms.upsertRoomMeta({
      roomId,
      roomName: d.room_name,
      description: d.description,
      creatorId: d.creator_id,
      hostNode: known?.hostNode ?? host.node,
      hostEpoch: known?.hostEpoch ?? host.epoch,
      state: 'ACTIVE',
      createdAt: d.created_at,
      deletionTxn: null,
    });
    this.invites.applyRoom(roomId, d);
  }

  private applyMessage(roomId: string, entry: Entry): boolean {
    const d = entry.data as StoredMessageData;
    if (isTrimmedMessage(d) && d.deleted_at === undefined) {
      this.skipTrimmed(roomId, entry.sequence);
      return false;
    }
    const message: MessageRecord = {
      messageId: d.message_id,
      roomId,
      username: d.username,
      // a message deleted before this node applied it (its entry stripped by the deletion): its tombstone
      content: isTrimmedMessage(d) ? '' : d.content,
      sequenceNumber: entry.sequence,
      timestamp: d.timestamp,
      clientMessageId: d.client_message_id ?? null,
      ...(isTrimmedMessage(d) ? { deletedAt: d.deleted_at } : {}),
    };
    const room = this.rooms.getRoom(roomId);
    if (!room || room.lastSequence >= message.sequenceNumber) return false; // applied before a crash undid only the applied mark
    this.messages.insertMessage(message);
    this.transactions.afterCommit(() => {
      this.clients.deliverMessage(toChatMessage(message));
      this.sequences.reached(roomId, message.sequenceNumber, 0);
    });
    return true;
  }

  /**
   * A message retention removed before this node applied it (a follower catching up from a host
   * that stripped it): the sequence is counted as the room's, nothing is stored or shown (the trim
   * entry that removed it comes later in the log and removes everything below it anyway).
   */
  private skipTrimmed(roomId: string, sequence: number): void {
    const room = this.rooms.getRoom(roomId);
    if (!room || room.lastSequence >= sequence) return;
    this.rooms.recordLastSequence(roomId, sequence);
    this.transactions.afterCommit(() => this.sequences.reached(roomId, sequence, 0));
  }

  private applyJoin(roomId: string, d: MemberJoinedData): void {
    if (!this.rooms.getRoom(roomId)) return;
    const before = this.members.getMember(roomId, d.username);
    this.members.addMember(roomId, d.username, d.node_id, before?.joinedAt ?? d.joined_at, d.boot_id);
    if (before && before.nodeId === d.node_id) return; // joined again through the same node: nothing new to tell
    const event: MemberEvent = { room_id: roomId, username: d.username, member_count: this.members.memberCount(roomId), timestamp: d.joined_at };
    this.transactions.afterCommit(() => this.clients.broadcast(roomId, 'member_joined', event, d.username));
  }

  private applyLeave(roomId: string, d: MemberLeftData): void {
    const member = this.members.getMember(roomId, d.username);
    if (!member) return;
    // a removal for a connection the member has since replaced (joined again elsewhere, or through the node's new run)
    if (d.node_id !== undefined && (member.nodeId !== d.node_id || (d.boot_id !== undefined && member.bootId !== d.boot_id))) return;
    this.members.removeMember(roomId, d.username);
    const event: MemberEvent = { room_id: roomId, username: d.username, member_count: this.members.memberCount(roomId), timestamp: d.timestamp, ...(d.reason ? { reason: d.reason } : {}) };
    this.transactions.afterCommit(() => this.clients.broadcast(roomId, 'member_left', event, d.username));
  }

  /**
   * Retention, as the host decided it: the room's messages below `before_sequence` go from the
   * store, and in the same write their log entries lose their content (they keep index, epoch,
   * sequence, client key and a small payload: RoomLogRepository.stripMessagesBefore). Every
   * message below it is at an earlier index, so every node, one catching up included, has applied
   * them by now and removes the very same ones.
   */
  private applyTrim(roomId: string, index: number, d: TrimData | null): void {
    if (!d || !Number.isSafeInteger(d.before_sequence) || !this.rooms.getRoom(roomId)) return;
    const removed = this.messages.trimBefore(roomId, d.before_sequence);
    const stripped = this.storedLogs.stripMessagesBefore(roomId, d.before_sequence, index);
    if (removed > 0 || stripped > 0) this.logger.debug(`Retention (${d.reason}): removed ${removed} message(s) below sequence ${d.before_sequence} from room ${roomId} (${stripped} log entries stripped)`);
  }

  private applyDeletion(roomId: string, d: RoomDeletedData, host: HostHint): void {
    const name = this.rooms.getRoom(roomId)?.roomName ?? '';
    this.logger.log(`Room '${name}' (${roomId}) deleted by ${d.initiator} (transaction ${d.transaction_id})`);
    this.deleteHere(roomId, name, d.transaction_id, host.node, d.deleted_at, d.initiator);
  }

  /**
   * A room deleted elsewhere, known from a tombstone (a peer's catch-up page or its answer to this
   * node's messages about the room): tombstones exist only for committed deletions.
   */
  applyTombstone(roomId: string, roomName: string, transactionId: string | null, hostNode: string, deletedAt: string): void {
    if (!this.rooms.getRoom(roomId) && this.tombstones.getTombstone(roomId)) return;
    this.deleteHere(roomId, this.rooms.getRoom(roomId)?.roomName ?? roomName, transactionId, hostNode, deletedAt, null);
  }

  /** The room, its members, messages and log go; a tombstone stays; local members are told (both deletion events, as everywhere). */
  private deleteHere(roomId: string, name: string, transactionId: string | null, hostNode: string, deletedAt: string, initiator: string | null): void {
    this.tombstones.deleteRoom({ roomId, roomName: name, hostNode, deletedAt, transactionId });
    this.transactions.afterCommit(() => {
      if (initiator !== null && transactionId) this.clients.broadcast(roomId, 'delete_room_initiated', { room_id: roomId, initiator, status: 'in_progress', transaction_id: transactionId });
      this.clients.broadcast(roomId, 'room_deleted', { room_id: roomId, room_name: name, message: `Room '${name}' has been deleted`, ...(transactionId ? { transaction_id: transactionId } : {}) });
      this.clients.unregisterRoom(roomId);
      this.sequences.release(roomId);
      this.changes.applied.release(roomId);
    });
  }

}
