import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { MessageRecord } from './chat-records';
import { toMessage, type Row } from './store-rows';

/** A message that matched a search, with the matching words marked in a short excerpt. */
export interface SearchHit {
  message: MessageRecord;
  /** The text around the match, matched terms between « and » (at most ~16 words, "…" where cut). */
  snippet: string;
}

/**
 * Full-text search over one room's stored messages (the message_search FTS5 table, which the
 * schema's triggers keep equal to the messages table: deleted messages are not in it). Newest
 * first, paged by sequence number: a ranked order (bm25) cannot be paged with before_sequence,
 * and in a chat the latest match is usually the one wanted.
 */
export class MessageSearchRepository {
  private readonly sql: Record<string, StatementSync>;

  constructor(db: DatabaseSync) {
    this.sql = {
      search: db.prepare(`SELECT m.*, snippet(message_search, 0, '«', '»', '…', 16) AS search_snippet
      FROM message_search
      JOIN message_search_keys k ON k.search_rowid = message_search.rowid
      JOIN messages m ON m.room_id = k.room_id AND m.sequence_number = k.sequence_number
      WHERE message_search MATCH ? AND k.room_id = ? AND k.sequence_number < ?
      ORDER BY k.sequence_number DESC LIMIT ?`),
    };
  }

  /**
   * Up to `limit` messages of the room below `beforeSequence` matching `ftsQuery`, newest first.
   * `ftsQuery` must be FTS5 syntax made safe by toFtsQuery (a bad one throws SQLite's error).
   */
  search(roomId: string, ftsQuery: string, beforeSequence: number, limit: number): SearchHit[] {
    return (this.sql.search.all(ftsQuery, roomId, beforeSequence, limit) as Row[]).map((row) => ({ message: toMessage(row), snippet: String(row.search_snippet ?? '') }));
  }
}
