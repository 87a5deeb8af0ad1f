import { Injectable } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import type { SearchResult } from '../../../common/protocol/client-wire';
import { MessageSearchRepository, type SearchHit } from '../../../common/store/message-search.repository';
import { toFtsQuery } from '../../../common/store/search-query';
import type { ClientConnection } from '../../members/client-connection';
import { RequestLimiter } from '../../members/request-limiter';
import { ConnectionIdentity } from './connection-identity';
import type { SearchMessagesRequest } from './dto/requests';
import { RoomVisibility } from '../replication/room-visibility';

const DEFAULT_PAGE = 20;

/**
 * search_messages: full-text search over a room's history for its members, answered by this node
 * from its own store (every node applies the same committed messages, edits and deletions, so no
 * peer is asked). Costs what a history page costs (the same rate limit).
 */
@Injectable()
export class MessageSearch {
  constructor(
    private readonly search: MessageSearchRepository,
    private readonly identity: ConnectionIdentity,
    private readonly limits: RequestLimiter,
    private readonly visibility: RoomVisibility,
  ) {}

  async searchMessages(conn: ClientConnection, req: SearchMessagesRequest): Promise<void> {
    this.limits.admitRequest(conn);
    await this.identity.assert(conn, req.username);
    if (!conn.rooms.has(req.room_id)) throw this.visibility.notInRoom(req.room_id, req.username);
    const query = toFtsQuery(req.query);
    if (query === null) throw new ChatError('INVALID_REQUEST', 'query must hold at least one word (letters or digits)');
    const limit = req.limit ?? DEFAULT_PAGE;
    let hits: SearchHit[];
    try {
      // one more than asked tells whether an older page exists
      hits = this.search.search(req.room_id, query, req.before_sequence ?? Number.MAX_SAFE_INTEGER, limit + 1);
    } catch (e) {
      // toFtsQuery leaves nothing FTS5 can refuse; should it still, the client gets a sentence, not a crash
      throw new ChatError('INVALID_REQUEST', `The query could not be searched: ${(e as Error).message}`);
    }
    const page = hits.slice(0, limit);
    const more = hits.length > limit;
    conn.send('search_results', {
      room_id: req.room_id,
      query: req.query,
      results: page.map(toSearchResult),
      next_before_sequence: more ? page[page.length - 1].message.sequenceNumber : null,
    });
  }
}

const toSearchResult = ({ message: m, snippet }: SearchHit): SearchResult => ({
  sequence_number: m.sequenceNumber,
  message_id: m.messageId,
  username: m.username,
  content: m.content,
  timestamp: m.timestamp,
  ...(m.editedAt ? { edited_at: m.editedAt } : {}),
  snippet,
});
