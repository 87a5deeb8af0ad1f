import { Injectable } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { ChatError } from '../../../common/errors/chat-error';
import type { MessageRecord } from '../../../common/store/chat-records';
import { MemberRepository } from '../../../common/store/member.repository';
import { MessageRepository } from '../../../common/store/message.repository';
import { MESSAGE_DELETED, MESSAGE_EDITED, type MessageDeletedData, type MessageEditedData } from '../replication/room-entries';
import { RoomLogs } from '../replication/room-logs.service';
import { RoomModerationRepository } from '../../../common/store/room-moderation.repository';
import { messageChangeRefusal, type MessageAction } from './message-permissions';
import { muteRefusal } from './moderation-rights';
import { RoomHostService } from './room-host.service';

/** A message as an edit or deletion left it, and the log entry that did it (0: nothing new was written). */
export interface MessageChange {
  message: MessageRecord;
  logIndex: number;
}

/**
 * What a room's host does for an edit or a deletion of a message: checks it against what every
 * node applied (the message exists, the actor may: message-permissions.ts), writes one entry into
 * the room's log and answers once a majority stored it. The same methods serve local clients and
 * peers (HostPeerRequests). Neither entry takes a sequence number.
 */
@Injectable()
export class MessageEdits {
  constructor(
    private readonly host: RoomHostService,
    private readonly messages: MessageRepository,
    private readonly members: MemberRepository,
    private readonly clock: Clock,
    private readonly logs: RoomLogs,
    private readonly moderation: RoomModerationRepository,
  ) {}

  /** Checked and written inside RoomLogs.serve: a host just elected waits until it applied what was committed before it. */
  edit(roomId: string, messageId: string, username: string, content: string): Promise<MessageChange> {
    return this.logs.serve(roomId, () => this.editNow(roomId, messageId, username, content));
  }

  delete(roomId: string, messageId: string, username: string): Promise<MessageChange> {
    return this.logs.serve(roomId, () => this.deleteNow(roomId, messageId, username));
  }

  private async editNow(roomId: string, messageId: string, username: string, content: string): Promise<MessageChange> {
    const message = this.target('edit', roomId, messageId, username);
    const muted = muteRefusal(this.moderation.mutedUntil(roomId, username), this.clock.now());
    if (muted) throw muted;
    if (message.deletedAt) throw new ChatError('MESSAGE_NOT_FOUND', 'The message was deleted');
    const data: MessageEditedData = { message_id: message.messageId, sequence_number: message.sequenceNumber, username: message.username, content, edited_at: this.clock.iso() };
    const { entry } = await this.logs.propose(roomId, { kind: MESSAGE_EDITED, data });
    // committed means applied here too: a deletion committed just before it left nothing to edit
    const now = this.messages.findById(roomId, message.messageId);
    if (!now || now.deletedAt) throw new ChatError('MESSAGE_NOT_FOUND', 'The message was deleted before the edit could be applied');
    return { message: now, logIndex: entry.index };
  }

  /** Deleting a deleted message answers with its tombstone and writes nothing (a retry after a retryable refusal). */
  private async deleteNow(roomId: string, messageId: string, username: string): Promise<MessageChange> {
    const message = this.target('delete', roomId, messageId, username);
    if (message.deletedAt) return { message, logIndex: 0 };
    const data: MessageDeletedData = {
      message_id: message.messageId,
      sequence_number: message.sequenceNumber,
      username: message.username,
      timestamp: message.timestamp,
      deleted_by: username,
      deleted_at: this.clock.iso(),
    };
    const { entry } = await this.logs.propose(roomId, { kind: MESSAGE_DELETED, data });
    // as applied (an earlier deletion's time if two raced; retention may have removed it meanwhile)
    const now = this.messages.findById(roomId, message.messageId) ?? { ...message, content: '', deletedAt: data.deleted_at };
    return { message: now, logIndex: entry.index };
  }

  /** The message `actor` wants to change, if the room is hosted here and open, the actor is a member and may. */
  private target(action: MessageAction, roomId: string, messageId: string, actor: string): MessageRecord {
    const room = this.host.activeHostedRoom(roomId);
    if (!this.members.getMember(roomId, actor)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    const message = this.messages.findById(roomId, messageId);
    if (!message) throw new ChatError('MESSAGE_NOT_FOUND', 'No such message in this room (it may have been removed by retention)');
    const refusal = messageChangeRefusal(action, actor, message, room, this.moderation.isModerator(roomId, actor));
    if (refusal) throw refusal;
    return message;
  }
}
