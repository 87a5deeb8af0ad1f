import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { MessageRecord } from './chat-records';
import { toMessage, type Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/** A message that matched a search, with the matching words marked in a short excerpt. */
export interface SearchHit {
  message: MessageRecord;
  /** The text around the match, matched terms between « and » (at most ~16 words, "…" where cut). */
  snippet: string;
}

/**
 * Full-text search over one room's stored messages (the message_search FTS5 table). New messages
 * are indexed behind their write, in batches (indexPending; SearchIndexing runs it a moment after
 * they are applied) and before any search of their room, so a search sees every stored message;
 * edits and deletions of indexed messages change the index in their own write (the schema's
 * triggers): deleted messages are not in it. Newest first, paged by sequence number: a ranked
 * order (bm25) cannot be paged with before_sequence, and in a chat the latest match is usually
 * the one wanted.
 */
export class MessageSearchRepository {
  private readonly sql: Record<string, StatementSync>;

  constructor(
    db: DatabaseSync,
    private readonly tx: StoreTransactions,
  ) {
    this.sql = {
      progress: db.prepare('SELECT indexed_through AS n FROM message_search_progress WHERE room_id = ?'),
      behind: db.prepare(`SELECT r.room_id FROM rooms r LEFT JOIN message_search_progress p ON p.room_id = r.room_id
        WHERE r.last_sequence > coalesce(p.indexed_through, 0)`),
      lastStored: db.prepare('SELECT max(sequence_number) AS n FROM messages WHERE room_id = ?'),
      addKeys: db.prepare(`INSERT INTO message_search_keys (room_id, sequence_number)
        SELECT room_id, sequence_number FROM messages WHERE room_id = ? AND sequence_number > ? AND sequence_number <= ? AND deleted_at IS NULL ORDER BY sequence_number`),
      addTexts: db.prepare(`INSERT INTO message_search (rowid, content)
        SELECT k.search_rowid, m.content FROM message_search_keys k JOIN messages m ON m.room_id = k.room_id AND m.sequence_number = k.sequence_number
        WHERE k.room_id = ? AND k.sequence_number > ? AND k.sequence_number <= ?`),
      setProgress: db.prepare(`INSERT INTO message_search_progress (room_id, indexed_through) VALUES (?, ?)
        ON CONFLICT(room_id) DO UPDATE SET indexed_through = excluded.indexed_through`),
      search: db.prepare(`SELECT m.*, snippet(message_search, 0, '«', '»', '…', 16) AS search_snippet
      FROM message_search
      JOIN message_search_keys k ON k.search_rowid = message_search.rowid
      JOIN messages m ON m.room_id = k.room_id AND m.sequence_number = k.sequence_number
      WHERE message_search MATCH ? AND k.room_id = ? AND k.sequence_number < ?
      ORDER BY k.sequence_number DESC LIMIT ?`),
    };
  }

  /** Rooms that may have stored messages not indexed yet (at start: what the last run left behind). */
  roomsBehind(): string[] {
    return (this.sql.behind.all() as Row[]).map((r) => r.room_id as string);
  }

  /**
   * Indexes up to about `maxMessages` of the room's stored messages not indexed yet, oldest first,
   * in one write that is not synced on its own (the index can always be rebuilt from the
   * messages, and its progress is in the same write). Returns whether some are still left.
   */
  indexPending(roomId: string, maxMessages: number): boolean {
    const from = Number((this.sql.progress.get(roomId) as Row | undefined)?.n ?? 0);
    const last = Number((this.sql.lastStored.get(roomId) as Row).n ?? 0);
    if (last <= from) return false;
    const to = Math.min(last, from + maxMessages);
    this.tx.run(() => {
      this.sql.addKeys.run(roomId, from, to);
      this.sql.addTexts.run(roomId, from, to);
      this.sql.setProgress.run(roomId, to);
    }, false);
    return to < last;
  }

  /**
   * Up to `limit` messages of the room below `beforeSequence` matching `ftsQuery`, newest first,
   * once every stored message of the room is indexed.
   * `ftsQuery` must be FTS5 syntax made safe by toFtsQuery (a bad one throws SQLite's error).
   */
  search(roomId: string, ftsQuery: string, beforeSequence: number, limit: number): SearchHit[] {
    this.catchUp(roomId);
    return (this.sql.search.all(ftsQuery, roomId, beforeSequence, limit) as Row[]).map((row) => ({ message: toMessage(row), snippet: String(row.search_snippet ?? '') }));
  }

  /** The room's index made whole before it is searched; if the store cannot write right now, what is indexed is searched. */
  private catchUp(roomId: string): void {
    try {
      while (this.indexPending(roomId, 5000));
    } catch (e) {
      if (!this.tx.writesFailing) throw e;
    }
  }
}
