import { RoomVisibility } from '../replication/room-visibility';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { MessageRecord } from '../../../common/store/chat-records';
import { MessageRepository } from '../../../common/store/message.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import type { GetHistoryRequest } from './dto/requests';
import { RoomHostService } from '../host/room-host.service';
import { toChatMessage } from '../../../common/protocol/record-mappers';
import type { HostHistoryPage } from '../routing/room-host';
import { RoomHosts } from '../routing/room-hosts';
import type { ChatMessage } from '../../../common/protocol/client-wire';
import { withinBudget } from '../../peers/reply-budget';

/** Messages read from the store per replay step. */
const REPLAY_PIECE = 100;
/** A replay stops writing above this many buffered bytes and goes on below LOW_WATER. */
const HIGH_WATER = 512 * 1024;
const LOW_WATER = 128 * 1024;
/** Largest `history` frame: a page of 200 long messages is cut (has_more) rather than sent as one multi-MiB frame. */
export const HISTORY_PAGE_MAX_BYTES = 512 * 1024;

/**
 * History as a client sees it: the replay that follows join_room_success, streamed from the store
 * in bounded pieces that wait for the socket to drain, and get_history pages bounded by bytes.
 */
@Injectable()
export class RoomHistoryService {
  private readonly logger = new Logger(RoomHistoryService.name);

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly messages: MessageRepository,
    private readonly clients: ClientRegistry,
    private readonly hosts: RoomHosts,
    private readonly host: RoomHostService,
    private readonly visibility: RoomVisibility,
  ) {}

  /**
   * The sequence a join's replay starts after: `since_sequence` (resume), else the last
   * `history_limit` messages, else the whole room up to HISTORY_REPLAY_LIMIT (the reference's
   * client shows messages from sequence 1 on and nothing past a gap).
   */
  replayStart(req: { since_sequence?: number; history_limit?: number }, firstSequence: number, lastSequence: number): number {
    if (req.since_sequence !== undefined) return Math.min(req.since_sequence, lastSequence);
    const limit = Math.min(req.history_limit ?? this.config.historyReplayLimit, this.config.historyReplayLimit);
    return Math.max(lastSequence - limit, firstSequence - 1, 0);
  }

  /**
   * Registers the connection in the room at `after` and streams everything after it from the
   * store; live messages wait (in the store) until the replay has caught up, so there is no gap
   * and no duplicate between the two.
   */
  async streamReplay(conn: ClientConnection, roomId: string, username: string, after: number): Promise<void> {
    this.clients.register(conn, roomId, username, after, true);
    let cursor = after;
    try {
      for (;;) {
        if (!conn.isOpen || !conn.rooms.has(roomId)) return;
        // a host's messages that no majority stored yet are not shown (they come live once committed)
        const visible = this.host.visibleUpTo(roomId);
        if (visible <= cursor) return;
        const page = this.messages.messagesAfter(roomId, cursor, Math.min(REPLAY_PIECE, visible - cursor));
        let sent = 0;
        for (const m of page) {
          this.clients.deliverTo(conn, toChatMessage(m));
          cursor = m.sequenceNumber;
          sent++;
          if (conn.bufferedBytes > HIGH_WATER) break;
        }
        if (page.length === 0 || (sent === page.length && cursor >= this.host.visibleUpTo(roomId))) return; // caught up: live delivery takes over in this same tick
        await conn.drained(LOW_WATER);
      }
    } finally {
      const reg = conn.rooms.get(roomId);
      if (reg) reg.replaying = false;
    }
  }

  /** A room this node holds no replica of (e.g. hosted by a reference node): the host's own join history, as it sent it. */
  replayFromHost(conn: ClientConnection, roomId: string, username: string, history: MessageRecord[], lastSequence: number): void {
    this.clients.register(conn, roomId, username, Math.min((history[0]?.sequenceNumber ?? lastSequence + 1) - 1, lastSequence));
    for (const m of history) this.clients.deliverTo(conn, toChatMessage(m));
  }

  async getHistory(conn: ClientConnection, req: GetHistoryRequest): Promise<void> {
    if (!conn.rooms.has(req.room_id)) throw this.visibility.notInRoom(req.room_id, conn.username);
    this.clients.touch(conn);
    const limit = req.limit ?? 50;
    const range = req.after_sequence !== undefined ? { after: req.after_sequence, limit } : { before: req.before_sequence, limit };
    const forward = range.after !== undefined;
    const room = this.rooms.getRoom(req.room_id);
    // the host is authoritative (a replica may lag behind it under load); its store answers when the host cannot
    const page = (room && (await this.hosts.for(room).history(range, limit))) || this.fromReplica(req.room_id, range);
    const bounded = boundPage(page.messages, forward);
    await conn.drained(LOW_WATER); // a client asking for pages faster than it reads them waits here (and its socket is paused)
    conn.send('history', {
      room_id: req.room_id,
      messages: bounded.messages,
      has_more: page.hasMore || bounded.cut,
      first_sequence: page.firstSequence,
      last_sequence: page.lastSequence,
    });
  }

  private fromReplica(roomId: string, range: { after?: number; before?: number; limit: number }): HostHistoryPage {
    const page = this.host.page(roomId, range);
    return { messages: page.messages.map(toChatMessage), hasMore: page.hasMore, firstSequence: page.firstSequence, lastSequence: page.lastSequence };
  }
}

/**
 * Cuts a page to HISTORY_PAGE_MAX_BYTES of JSON, keeping the messages nearest where the client
 * pages from (the oldest when paging forward, the newest when paging back); at least one stays.
 */
export function boundPage(messages: ChatMessage[], forward: boolean, maxBytes = HISTORY_PAGE_MAX_BYTES): { messages: ChatMessage[]; cut: boolean } {
  const kept = withinBudget(messages, (m) => Buffer.byteLength(JSON.stringify(m)) + 1, { fromEnd: !forward, budget: maxBytes });
  return kept.length === messages.length ? { messages, cut: false } : { messages: kept, cut: true };
}
