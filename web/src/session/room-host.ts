// Where a room is hosted, as this client knows it: the host and epoch from the join reply, moved by
// `room_host_changed` when the cluster fails a room over to a new host. The one place that decides
// whether a host announcement is news, stale, or about a host the room has already left.

import type { RoomState } from './room-state';
import type { SessionContext } from './session-context';

export interface RoomHostDeps {
  /** The lobby's list shows the room under its new host at once (the next refresh confirms it). */
  showListedHost(roomId: string, adminNode: string): void;
  /** The host the lobby's list shows for the room; undefined if the list does not have it. */
  listedHost(roomId: string): string | undefined;
  resendOutbox(room: RoomState): void;
  refreshListSoon(): void;
}

export class RoomHost {
  private readonly ctx: SessionContext;
  private readonly deps: RoomHostDeps;

  constructor(ctx: SessionContext, deps: RoomHostDeps) {
    this.ctx = ctx;
    this.deps = deps;
  }

  /** The host a join reply names; an older epoch than one already announced is ignored. */
  onJoined(room: RoomState, adminNode: string | undefined, epoch: unknown): void {
    const e = typeof epoch === 'number' && epoch > 0 ? epoch : 0;
    if (e > 0 && e < room.hostEpoch) return;
    if (adminNode) room.adminNode = adminNode;
    if (e > 0) room.hostEpoch = e;
    // A list fetched while the room was between hosts lacks it (or names the old one): fetch it again.
    if (adminNode && this.deps.listedHost(room.id) !== adminNode) {
      this.deps.showListedHost(room.id, adminNode);
      this.deps.refreshListSoon();
    }
  }

  /**
   * `room_host_changed` (or a refusal naming the new host): the room now lives on another node;
   * sends waiting for it go there. False if it was no news (a repeat, or older than what we know).
   */
  onHostChanged(room: RoomState, d: Record<string, unknown>): boolean {
    const adminNode = typeof d.admin_node === 'string' ? d.admin_node : '';
    const epoch = typeof d.host_epoch === 'number' ? d.host_epoch : 0;
    if (!adminNode || (epoch > 0 && epoch <= room.hostEpoch)) return false;
    const moved = adminNode !== room.adminNode;
    const from = room.adminNode;
    room.adminNode = adminNode;
    if (epoch > 0) room.hostEpoch = epoch;
    if (room.status === 'unavailable') room.status = 'joined';
    if (!room.deleting) room.notice = null;
    for (const out of room.outbox.values()) out.note = undefined;
    this.ctx.emit({ kind: 'room', room });
    // Same key as "unavailable": the toast saying the host is down is replaced, not stacked.
    if (moved) {
      this.ctx.emit({ kind: 'notice', level: 'info', text: `Room “${room.name}” moved to ${adminNode}.`, roomId: room.id, key: `avail:${room.id}` });
      const text = `The room moved to ${adminNode}${from ? ` (its host ${from} stopped answering)` : ''}`;
      this.ctx.emit({ kind: 'system', room, text, timestamp: new Date().toISOString() });
    }
    this.deps.showListedHost(room.id, adminNode);
    this.deps.resendOutbox(room);
    this.deps.refreshListSoon();
    return true;
  }

  /**
   * `room_unavailable` names the host that went down. Once the room has moved on (we know a newer
   * host), a late report about the old one is stale: the room is fine where it is now.
   */
  isStaleOutage(room: RoomState, d: Record<string, unknown>): boolean {
    return typeof d.admin_node === 'string' && room.adminNode !== '' && d.admin_node !== room.adminNode;
  }
}
