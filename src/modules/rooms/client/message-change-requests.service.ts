import { Injectable, Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import { RequestLimiter } from '../../members/request-limiter';
import { ReplicaService } from '../replica/replica.service';
import { RoomHosts } from '../routing/room-hosts';
import { RoomLocator } from '../routing/room-locator';
import type { MessageChange } from '../routing/room-host';
import { ConnectionIdentity } from './connection-identity';
import type { DeleteMessageRequest, EditMessageRequest } from './dto/requests';

/**
 * A client's edit or deletion of a message, whichever node hosts the room: checked here as a send
 * is (the same rate limit, identity, membership), decided and written by the room's host
 * (MessageEdits), answered once this node has applied it, so the requester gets its own
 * message_edited / message_deleted first, then the success frame.
 */
@Injectable()
export class MessageChangeRequests {
  private readonly logger = new Logger(MessageChangeRequests.name);

  constructor(
    private readonly clients: ClientRegistry,
    private readonly replica: ReplicaService,
    private readonly locator: RoomLocator,
    private readonly hosts: RoomHosts,
    private readonly identity: ConnectionIdentity,
    private readonly limits: RequestLimiter,
  ) {}

  async editMessage(conn: ClientConnection, req: EditMessageRequest): Promise<void> {
    const change = await this.change(conn, req, (room) => this.hosts.for(room).editMessage(req.username, req.message_id, req.content));
    conn.send('edit_message_success', { room_id: req.room_id, message_id: change.message.messageId, sequence_number: change.message.sequenceNumber, edited_at: change.message.editedAt ?? '' });
  }

  async deleteMessage(conn: ClientConnection, req: DeleteMessageRequest): Promise<void> {
    const change = await this.change(conn, req, (room) => this.hosts.for(room).deleteMessage(req.username, req.message_id));
    conn.send('delete_message_success', { room_id: req.room_id, message_id: change.message.messageId, sequence_number: change.message.sequenceNumber, deleted_at: change.message.deletedAt ?? '' });
  }

  private async change(conn: ClientConnection, req: { room_id: string; username: string }, atHost: (room: Parameters<RoomHosts['for']>[0]) => Promise<MessageChange>): Promise<MessageChange> {
    // an edit or a deletion costs the host what a message costs: one entry, one fan-out
    this.limits.admitMessage(conn);
    await this.identity.assert(conn, req.username);
    if (!conn.rooms.has(req.room_id)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    this.clients.touch(conn);
    const room = await this.locator.activeRoom(req.room_id);
    const change = await atHost(room);
    // committed on a majority; if it has not reached this node in time it still counts, and arrives with the catch-up
    await this.replica.waitForChange(room.roomId, change.logIndex).catch((e: Error) => this.logger.warn(`${e.message}: answering anyway`));
    return change;
  }
}
