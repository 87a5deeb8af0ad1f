// Searching a room's history (search_messages): a page of matches, newest first, and where the
// next (older) page starts.

import { describeError } from '../format';
import type { SearchResult } from '../protocol';
import type { SessionContext } from './session-context';

export interface SearchPage {
  results: SearchResult[];
  /** Pass as `before` for the next, older page; null: there is none. */
  next: number | null;
}

/** One page of the room's messages matching `query`. Throws a readable Error. */
export async function searchRoom(ctx: SessionContext, roomId: string, query: string, before?: number): Promise<SearchPage> {
  const frame = await ctx.request(
    { type: 'search_messages', data: { room_id: roomId, username: ctx.username, query, ...(before !== undefined ? { before_sequence: before } : {}) } },
    { types: ['search_results', 'error'], roomId },
  );
  const d = (frame.data ?? {}) as Record<string, unknown>;
  if (frame.type !== 'search_results') throw new Error(describeError(d.error_code as string, d.message as string, { roomName: ctx.rooms.get(roomId)?.name }));
  return { results: Array.isArray(d.results) ? (d.results as SearchResult[]) : [], next: typeof d.next_before_sequence === 'number' ? d.next_before_sequence : null };
}
