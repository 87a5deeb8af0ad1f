import { PEER_REPLY_BYTES, xmlTextBytes } from '../../common/xmlrpc';
import type { HostedRoomState, MessageWire } from '../../common/protocol/peer-wire';

/** XML-RPC struct markup around a message's or a room's fields (names, tags, ids, timestamps). */
const STRUCT_OVERHEAD = 800;

export const messageWireBytes = (m: MessageWire) => STRUCT_OVERHEAD + xmlTextBytes(m.content) + xmlTextBytes(m.username) + xmlTextBytes(m.client_message_id ?? '');

export const roomStateBytes = (r: HostedRoomState) =>
  STRUCT_OVERHEAD + xmlTextBytes(r.room_name) + xmlTextBytes(r.description ?? '') + xmlTextBytes(r.creator_id) + r.members.reduce((n, m) => n + 300 + xmlTextBytes(m.username), 0);

/**
 * The longest run of `items` whose encoded size stays within `budget` (at least one item, so a
 * reply always makes progress): from the start, or from the end for pages that lead up to a point.
 */
export function withinBudget<T>(items: readonly T[], sizeOf: (item: T) => number, opts: { fromEnd?: boolean; budget?: number } = {}): T[] {
  const budget = opts.budget ?? PEER_REPLY_BYTES;
  let bytes = 0;
  let n = 0;
  while (n < items.length) {
    bytes += sizeOf(items[opts.fromEnd ? items.length - 1 - n : n]);
    if (n > 0 && bytes > budget) break;
    n++;
  }
  return opts.fromEnd ? items.slice(items.length - n) : items.slice(0, n);
}
