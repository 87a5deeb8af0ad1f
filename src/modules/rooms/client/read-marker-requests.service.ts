import { Injectable } from '@nestjs/common';
import type { ClientConnection } from '../../members/client-connection';
import type { MarkReadRequest } from './dto/requests';
import { ReadStates } from './read-states';
import { RoomChangeRequests } from './room-change-requests';

/**
 * A client's mark_read, whichever node hosts the room: checked here (identity, membership, the
 * rate limit of sends: a client may mark as often as it is shown messages), decided and written by
 * the room's host (ReadMarkers), answered once this node has applied it, so the requester gets its
 * own read_marker first, then mark_read_success with the read state as this node now sees it.
 */
@Injectable()
export class ReadMarkerRequests {
  constructor(
    private readonly changes: RoomChangeRequests,
    private readonly readStates: ReadStates,
  ) {}

  async markRead(conn: ClientConnection, req: MarkReadRequest): Promise<void> {
    const { room, change: mark } = await this.changes.change(conn, req, 'message', (host) => host.markRead(req.username, req.sequence_number));
    const state = this.readStates.of(room.roomId, req.username);
    // the host's marker is the truth; this node's may lag behind it for a moment
    conn.send('mark_read_success', { room_id: room.roomId, username: req.username, sequence_number: Math.max(mark.sequence, state.last_read), ...state });
  }
}
