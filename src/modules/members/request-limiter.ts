import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ChatError } from '../../common/errors/chat-error';
import { AddressBudgets } from '../../common/limits/address-budgets';
import { TokenBucket } from '../../common/limits/token-bucket';
import { RoomRepository } from '../../common/store/room.repository';
import type { ClientConnection } from './client-connection';

interface ConnectionBuckets {
  messages: TokenBucket;
  roomOps: TokenBucket;
  requests: TokenBucket;
}

/**
 * Rate and admission limits (config `limits`), per connection and per client address: an address
 * with many connections shares one budget for messages and for room creations and joins, so it
 * cannot multiply the per-connection rates. A refusal is a ChatError the gateway's filter answers
 * in the request's own error frame; nothing accepted before is touched. Durations are monotonic.
 */
@Injectable()
export class RequestLimiter {
  private readonly buckets = new WeakMap<ClientConnection, ConnectionBuckets>();
  private readonly ipMessages: AddressBudgets;
  private readonly ipRoomOps: AddressBudgets;
  /** Rooms created through this node, by client address (pruned of deleted rooms when counted). */
  private readonly roomsByAddress = new Map<string, Set<string>>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly clock: Clock,
    private readonly rooms: RoomRepository,
  ) {
    const l = config.limits;
    this.ipMessages = new AddressBudgets(l.ipMessagesPerSecond, l.ipMessageBurst);
    this.ipRoomOps = new AddressBudgets(l.ipRoomOpsPerSecond, l.ipRoomOpBurst);
  }

  /** One send_message. */
  admitMessage(conn: ClientConnection): void {
    const l = this.config.limits;
    refuseIfWaiting(this.of(conn).messages.take(this.clock.monotonic()), `Too many messages: at most ${l.messagesPerSecond} per second`);
    refuseIfWaiting(this.ipMessages.take(conn.address, this.clock.monotonic()), `Too many messages from your address: at most ${l.ipMessagesPerSecond} per second over all its connections`);
  }

  /** One create_room or join_room (they share a bucket: both cost the host a write and a fan-out). */
  admitRoomOp(conn: ClientConnection): void {
    const l = this.config.limits;
    refuseIfWaiting(this.of(conn).roomOps.take(this.clock.monotonic()), `Too many room creations and joins: at most ${l.roomOpsPerSecond} per second`);
    refuseIfWaiting(this.ipRoomOps.take(conn.address, this.clock.monotonic()), `Too many room creations and joins from your address: at most ${l.ipRoomOpsPerSecond} per second over all its connections`);
  }

  /** One get_history, discover_rooms, leave_room or delete_room: each reads pages or asks the room's host. */
  admitRequest(conn: ClientConnection): void {
    refuseIfWaiting(this.of(conn).requests.take(this.clock.monotonic()), `Too many requests: at most ${this.config.limits.requestsPerSecond} history pages, discoveries, leaves and deletions per second`);
  }

  /** A join that would put the connection in one room more than allowed. */
  admitRoomMembership(conn: ClientConnection, roomId: string): void {
    const max = this.config.limits.roomsPerConnection;
    if (max > 0 && !conn.rooms.has(roomId) && conn.rooms.size >= max) {
      throw new ChatError('LIMIT_EXCEEDED', `This connection is already in ${max} rooms (the most allowed): leave a room before joining another`);
    }
  }

  /** A create_room on a node that already hosts as many rooms as allowed. */
  admitHostedRoom(hostedRooms: number): void {
    const max = this.config.limits.roomsPerNode;
    if (max > 0 && hostedRooms >= max) {
      throw new ChatError('LIMIT_EXCEEDED', `This node already hosts ${max} rooms (the most allowed): delete unused rooms or create the room on another node`);
    }
  }

  /**
   * A create_room from an address (or, in token mode, a user) that already created as many rooms
   * as allowed that still exist: one client cannot take every room a node may host.
   */
  admitRoomCreation(conn: ClientConnection, creatorId: string): void {
    const { roomsPerIp, roomsPerUser } = this.config.limits;
    if (roomsPerIp > 0 && this.liveRoomsCreatedFrom(conn.address) >= roomsPerIp) {
      throw new ChatError('LIMIT_EXCEEDED', `Your address has created ${roomsPerIp} rooms that still exist (the most allowed): delete one before creating another`);
    }
    if (this.config.authMode === 'token' && roomsPerUser > 0) {
      const created = this.rooms.listRooms().filter((r) => r.creatorId === creatorId).length;
      if (created >= roomsPerUser) throw new ChatError('LIMIT_EXCEEDED', `You have created ${roomsPerUser} rooms that still exist (the most allowed): delete one before creating another`);
    }
  }

  roomCreated(conn: ClientConnection, roomId: string): void {
    if (this.config.limits.roomsPerIp <= 0) return;
    let rooms = this.roomsByAddress.get(conn.address);
    if (!rooms) this.roomsByAddress.set(conn.address, (rooms = new Set()));
    rooms.add(roomId);
  }

  private liveRoomsCreatedFrom(address: string): number {
    const rooms = this.roomsByAddress.get(address);
    if (!rooms) return 0;
    for (const roomId of rooms) if (!this.rooms.getRoom(roomId)) rooms.delete(roomId);
    if (rooms.size === 0) this.roomsByAddress.delete(address);
    return rooms.size;
  }

  private of(conn: ClientConnection): ConnectionBuckets {
    let b = this.buckets.get(conn);
    if (!b) {
      const l = this.config.limits;
      const now = this.clock.monotonic();
      b = {
        messages: new TokenBucket(l.messagesPerSecond, l.messageBurst, now),
        roomOps: new TokenBucket(l.roomOpsPerSecond, l.roomOpBurst, now),
        requests: new TokenBucket(l.requestsPerSecond, l.requestBurst, now),
      };
      this.buckets.set(conn, b);
    }
    return b;
  }
}

function refuseIfWaiting(retryAfterMs: number, what: string): void {
  if (retryAfterMs > 0) throw new ChatError('RATE_LIMITED', `${what}; try again in ${(retryAfterMs / 1000).toFixed(1)} s`, { retry_after_ms: retryAfterMs });
}
