import { Inject, Injectable } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { MemberRepository } from '../../../common/store/member.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { PEER_REPLY_BYTES, XmlRpcFault, XmlRpcFaultCode, xmlTextBytes } from '../../../common/xmlrpc';
import type { PeerResult } from '../../../common/protocol/peer-wire';
import { roomStateBytes, withinBudget } from '../../peers/reply-budget';
import { toHostedRoomState } from '../../../common/protocol/record-mappers';

/** Rows read per page; the byte budget usually cuts a page of rooms with members shorter. */
const PAGE_ROWS = 200;
const CURSOR = /^(deleted|rooms):(.*)$/s;

type Tombstone = PeerResult<'get_room_states'>['deleted'][number];
const tombstoneBytes = (t: Tombstone) => 300 + xmlTextBytes(t.room_name) + t.room_id.length + (t.transaction_id?.length ?? 0);

/**
 * The rooms this node hosts, as catch-up pages (`get_room_states`): first the deletions
 * (tombstones), then the rooms with their members, in id order, each page within the reply
 * budget. `next_cursor` names where the next page starts; null on the last one.
 */
@Injectable()
export class RoomStatePages {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly members: MemberRepository,
    private readonly tombstones: TombstoneRepository,
  ) {}

  page(cursor: string | null): PeerResult<'get_room_states'> {
    const match = cursor ? CURSOR.exec(cursor) : null;
    if (cursor && !match) throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, 'get_room_states: cursor must be a next_cursor from an earlier page');
    const [phase, after] = match ? [match[1], match[2]] : ['deleted', ''];
    let deleted: Tombstone[] = [];
    let budget = PEER_REPLY_BYTES;
    if (phase === 'deleted') {
      // every tombstone here: each was written when a committed deletion was applied, so any node may pass it on
      const rows = this.tombstones.tombstonesAfter(after, PAGE_ROWS).map((t) => ({ room_id: t.roomId, room_name: t.roomName, transaction_id: t.transactionId }));
      deleted = withinBudget(rows, tombstoneBytes);
      if (deleted.length < rows.length || rows.length === PAGE_ROWS) return { rooms: [], deleted, next_cursor: `deleted:${deleted.at(-1)!.room_id}` };
      budget -= deleted.reduce((n, t) => n + tombstoneBytes(t), 0);
    }
    // every room this node knows, with the host it knows for each (a node back with an empty disk learns from them what it must rejoin)
    const rows = this.rooms.roomsAfter(phase === 'rooms' ? after : '', PAGE_ROWS);
    if (rows.length === 0) return { rooms: [], deleted, next_cursor: null };
    const rooms = withinBudget(
      rows.map((r) => toHostedRoomState(r, this.members.listMembers(r.roomId))),
      roomStateBytes,
      { budget: Math.max(budget, 1) },
    );
    const more = rooms.length < rows.length || rows.length === PAGE_ROWS;
    return { rooms, deleted, next_cursor: more ? `rooms:${rooms.at(-1)!.room_id}` : null };
  }
}
