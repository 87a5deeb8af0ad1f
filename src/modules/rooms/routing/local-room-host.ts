import type { MemberLeftReason } from '../../../common/protocol/client-wire';
import type { ForwardItem } from '../../../common/protocol/peer-wire';
import type { RoomRecord } from '../../../common/store/chat-records';
import type { MessageEdits } from '../host/message-edits.service';
import type { ReadMarkers } from '../host/read-markers.service';
import type { RoomDeletionCoordinator } from '../host/room-deletion.coordinator';
import type { RoomHostService } from '../host/room-host.service';
import type { RoomInvites } from '../host/room-invites.service';
import type { RoomModeration } from '../host/room-moderation.service';
import { toRoomInfo } from '../../../common/protocol/record-mappers';
import type { DeletionOutcome, HistoryRange, HostHistoryPage, HostJoin, Invitation, MessageChange, ModerationOutcome, ModerationRequest, ReadMark, RoomHost, SentMessage } from './room-host';

/** This node hosts the room: requests go straight to its sequencer and deletion coordinator. */
export class LocalRoomHost implements RoomHost {
  // the next send is sequenced while earlier ones wait for their majority, in the order they were read
  readonly maxSendsInFlight = 64;

  constructor(
    private readonly room: RoomRecord,
    readonly nodeId: string,
    /** This run's boot id, kept with a membership: a host that takes over later sees it ended with this run. */
    private readonly bootId: string,
    private readonly host: RoomHostService,
    private readonly deletion: RoomDeletionCoordinator,
    private readonly edits: MessageEdits,
    private readonly readMarkers: ReadMarkers,
    private readonly invites: RoomInvites,
    private readonly moderation: RoomModeration,
  ) {}

  async join(username: string): Promise<HostJoin> {
    const joined = await this.host.join(this.room.roomId, username, this.nodeId, this.bootId);
    return { info: toRoomInfo(joined.room, joined.members), firstSequence: joined.firstSequence, lastSequence: joined.room.lastSequence, hostHistory: [] };
  }

  async send(item: ForwardItem): Promise<SentMessage> {
    const { message, duplicate } = await this.host.send(this.room.roomId, item.username, item.content, item.client_message_id); // committed: a majority has it
    return { message_id: message.messageId, sequence_number: message.sequenceNumber, timestamp: message.timestamp, duplicate };
  }

  async leave(username: string, reason?: MemberLeftReason): Promise<void> {
    // a removal this node decided is scoped to members connected through it; an explicit leave is not
    await this.host.leave(this.room.roomId, username, reason, reason ? this.nodeId : undefined);
  }

  editMessage(username: string, messageId: string, content: string): Promise<MessageChange> {
    return this.edits.edit(this.room.roomId, messageId, username, content);
  }

  deleteMessage(username: string, messageId: string): Promise<MessageChange> {
    return this.edits.delete(this.room.roomId, messageId, username);
  }

  markRead(username: string, sequence: number): Promise<ReadMark> {
    return this.readMarkers.mark(this.room.roomId, username, sequence);
  }

  invite(username: string, member: string): Promise<Invitation> {
    return this.invites.invite(this.room.roomId, username, member);
  }

  moderate(req: ModerationRequest): Promise<ModerationOutcome> {
    return this.moderation.moderate(this.room.roomId, req);
  }

  deleteRoom(username: string, onStarted: (transactionId: string) => void): Promise<DeletionOutcome> {
    return this.deletion.deleteRoom(this.room.roomId, username, onStarted);
  }

  async history(_range: HistoryRange, _limit: number): Promise<HostHistoryPage | null> {
    return null; // the host's store is this node's store: the caller reads it directly
  }
}
