import { Injectable, Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import { RequestLimiter } from '../../members/request-limiter';
import { ReplicaService } from '../replica/replica.service';
import { RoomHosts } from '../routing/room-hosts';
import { RoomLocator } from '../routing/room-locator';
import { ConnectionIdentity } from './connection-identity';
import type { MarkReadRequest } from './dto/requests';
import { ReadStates } from './read-states';

/**
 * A client's mark_read, whichever node hosts the room: checked here (identity, membership, the
 * rate limit of sends: a client may mark as often as it is shown messages), decided and written by
 * the room's host (ReadMarkers), answered once this node has applied it, so the requester gets its
 * own read_marker first, then mark_read_success with the read state as this node now sees it.
 */
@Injectable()
export class ReadMarkerRequests {
  private readonly logger = new Logger(ReadMarkerRequests.name);

  constructor(
    private readonly clients: ClientRegistry,
    private readonly replica: ReplicaService,
    private readonly locator: RoomLocator,
    private readonly hosts: RoomHosts,
    private readonly identity: ConnectionIdentity,
    private readonly limits: RequestLimiter,
    private readonly readStates: ReadStates,
  ) {}

  async markRead(conn: ClientConnection, req: MarkReadRequest): Promise<void> {
    this.limits.admitMessage(conn);
    await this.identity.assert(conn, req.username);
    if (!conn.rooms.has(req.room_id)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    this.clients.touch(conn);
    const room = await this.locator.activeRoom(req.room_id);
    const mark = await this.hosts.for(room).markRead(req.username, req.sequence_number);
    // committed on a majority; if it has not reached this node in time it still counts, and arrives with the catch-up
    await this.replica.waitForChange(room.roomId, mark.logIndex).catch((e: Error) => this.logger.warn(`${e.message}: answering anyway`));
    const state = this.readStates.of(room.roomId, req.username);
    // the host's marker is the truth; this node's may lag behind it for a moment
    conn.send('mark_read_success', { room_id: room.roomId, username: req.username, sequence_number: Math.max(mark.sequence, state.last_read), ...state });
  }
}
