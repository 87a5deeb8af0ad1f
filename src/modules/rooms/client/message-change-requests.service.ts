import { Injectable } from '@nestjs/common';
import type { ClientConnection } from '../../members/client-connection';
import type { DeleteMessageRequest, EditMessageRequest } from './dto/requests';
import { RoomChangeRequests } from './room-change-requests';

/**
 * A client's edit or deletion of a message: checked as a send is (the same rate limit, identity,
 * membership), decided and written by the room's host (MessageEdits), answered once this node has
 * applied it (RoomChangeRequests), so the requester gets its own message_edited / message_deleted
 * first, then the success frame.
 */
@Injectable()
export class MessageChangeRequests {
  constructor(private readonly changes: RoomChangeRequests) {}

  async editMessage(conn: ClientConnection, req: EditMessageRequest): Promise<void> {
    // an edit or a deletion costs the host what a message costs: one entry, one fan-out
    const { change } = await this.changes.change(conn, req, 'message', (host) => host.editMessage(req.username, req.message_id, req.content));
    conn.send('edit_message_success', { room_id: req.room_id, message_id: change.message.messageId, sequence_number: change.message.sequenceNumber, edited_at: change.message.editedAt ?? '' });
  }

  async deleteMessage(conn: ClientConnection, req: DeleteMessageRequest): Promise<void> {
    const { change } = await this.changes.change(conn, req, 'message', (host) => host.deleteMessage(req.username, req.message_id));
    conn.send('delete_message_success', { room_id: req.room_id, message_id: change.message.messageId, sequence_number: change.message.sequenceNumber, deleted_at: change.message.deletedAt ?? '' });
  }
}
