import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ChatError } from '../../common/errors/chat-error';
import { TokenBucket } from '../../common/limits/token-bucket';
import type { ClientConnection } from './client-connection';

interface ConnectionBuckets {
  messages: TokenBucket;
  roomOps: TokenBucket;
}

/**
 * Per-connection rate and admission limits (config `limits`). A refusal is a ChatError the
 * gateway's filter answers in the request's own error frame; nothing accepted before is touched.
 */
@Injectable()
export class RequestLimiter {
  private readonly buckets = new WeakMap<ClientConnection, ConnectionBuckets>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly clock: Clock,
  ) {}

  /** One send_message. */
  admitMessage(conn: ClientConnection): void {
    const wait = this.of(conn).messages.take(this.clock.monotonic());
    if (wait > 0) throw rateLimited(`Too many messages: at most ${this.config.limits.messagesPerSecond} per second`, wait);
  }

  /** One create_room or join_room (they share a bucket: both cost the host a write and a fan-out). */
  admitRoomOp(conn: ClientConnection): void {
    const wait = this.of(conn).roomOps.take(this.clock.monotonic());
    if (wait > 0) throw rateLimited(`Too many room creations and joins: at most ${this.config.limits.roomOpsPerSecond} per second`, wait);
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

  private of(conn: ClientConnection): ConnectionBuckets {
    let b = this.buckets.get(conn);
    if (!b) {
      const l = this.config.limits;
      const now = this.clock.monotonic();
      b = { messages: new TokenBucket(l.messagesPerSecond, l.messageBurst, now), roomOps: new TokenBucket(l.roomOpsPerSecond, l.roomOpBurst, now) };
      this.buckets.set(conn, b);
    }
    return b;
  }
}

function rateLimited(what: string, retryAfterMs: number): ChatError {
  return new ChatError('RATE_LIMITED', `${what}; try again in ${(retryAfterMs / 1000).toFixed(1)} s`, { retry_after_ms: retryAfterMs });
}
