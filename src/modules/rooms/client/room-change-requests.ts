import { Injectable, Logger } from '@nestjs/common';
import type { RoomRecord } from '../../../common/store/chat-records';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import { RequestLimiter } from '../../members/request-limiter';
import { ReplicaService } from '../replica/replica.service';
import { RoomVisibility } from '../replication/room-visibility';
import type { RoomHost } from '../routing/room-host';
import { RoomHosts } from '../routing/room-hosts';
import { RoomLocator } from '../routing/room-locator';
import { ConnectionIdentity } from './connection-identity';

/** What a change of a room costs of the connection's budgets: a message's (one entry, one fan-out) or a room operation's. */
export type ChangeBudget = 'message' | 'room-op';

/**
 * The one path of a member's request that changes a room through its log (edit, delete,
 * mark_read, invite_user, moderation), whichever node hosts the room: the budget it costs, the
 * acting user's identity, membership (a private room the user may not see answers as a missing
 * one, RoomVisibility), then the room's host decides and writes the entry, and the answer waits
 * until this node has applied it, so the requester has seen the change's own event first.
 */
@Injectable()
export class RoomChangeRequests {
  private readonly logger = new Logger(RoomChangeRequests.name);

  constructor(
    private readonly clients: ClientRegistry,
    private readonly replica: ReplicaService,
    private readonly locator: RoomLocator,
    private readonly hosts: RoomHosts,
    private readonly identity: ConnectionIdentity,
    private readonly limits: RequestLimiter,
    private readonly visibility: RoomVisibility,
  ) {}

  /** Runs `atHost` on the room's host for a member's request and resolves once this node applied its entry. */
  async change<T extends { logIndex: number }>(conn: ClientConnection, req: { room_id: string; username: string }, budget: ChangeBudget, atHost: (host: RoomHost, room: RoomRecord) => Promise<T>): Promise<{ room: RoomRecord; change: T }> {
    if (budget === 'message') this.limits.admitMessage(conn);
    else this.limits.admitRoomOp(conn);
    await this.identity.assert(conn, req.username);
    if (!conn.rooms.has(req.room_id)) throw this.visibility.notInRoom(req.room_id, req.username);
    this.clients.touch(conn);
    const room = await this.locator.activeRoom(req.room_id);
    const change = await atHost(this.hosts.for(room), room);
    // committed on a majority; if it has not reached this node in time it still counts, and arrives with the catch-up
    await this.replica.waitForChange(room.roomId, change.logIndex).catch((e: Error) => this.logger.warn(`${e.message}: answering anyway`));
    return { room, change };
  }
}
