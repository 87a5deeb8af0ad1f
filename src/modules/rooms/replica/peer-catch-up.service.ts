import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { HostedRoomState, PeerResult } from '../../../common/protocol/peer-wire';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { ReplicaService } from './replica.service';
import { RoomHostAuthority } from './room-host-authority';
import { HostChanges, type HostChangeListener } from './host-changes';

/**
 * Catch-up with one peer (at boot, when it comes back, when it asks): its hosted rooms, members,
 * messages after ours and deletions, page by page, applied through ReplicaService.
 */
@Injectable()
export class PeerCatchUp implements HostChangeListener, OnModuleInit {
  private readonly logger = new Logger(PeerCatchUp.name);
  /** One catch-up per peer at a time; a second request joins the running one. */
  private readonly syncing = new Map<string, Promise<void>>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
    private readonly replica: ReplicaService,
    private readonly authority: RoomHostAuthority,
    private readonly changes: HostChanges,
  ) {}

  onModuleInit(): void {
    this.changes.subscribe(this);
  }

  /** A host that stepped down catches up with the new one at once (what it missed, deletions included). */
  onHostChanged(roomId: string, _previousHost: string, steppedDown: boolean): void {
    const host = this.store.getRoom(roomId)?.hostNode;
    if (steppedDown && host && this.peers.has(host)) void this.syncFrom(host);
  }

  /** Pulls a peer's hosted rooms, members, messages and deletions (at boot and when it comes back). */
  syncFrom(nodeId: string): Promise<void> {
    const running = this.syncing.get(nodeId);
    if (running) return running;
    const task = this.doSync(nodeId)
      .catch((e) => this.logger.warn(`Catch-up from ${nodeId} failed: ${(e as Error).message}`))
      .finally(() => this.syncing.delete(nodeId));
    this.syncing.set(nodeId, task);
    return task;
  }

  private async doSync(nodeId: string): Promise<void> {
    let rooms = 0;
    let deleted = 0;
    let fetched = 0;
    let cursor: string | null = null;
    do {
      const state: PeerResult<'get_room_states'> = await this.peers.call(nodeId, 'get_room_states', cursor === null ? [] : [cursor]);
      // a peer reports only its own rooms' deletions; anything else in the reply is not its to say
      for (const d of state.deleted) if (!this.authority.refusal(d.room_id, nodeId)) this.replica.applyDeleted(d.room_id, d.room_name, d.transaction_id, nodeId);
      for (const remote of state.rooms) {
        if (remote.host_node !== nodeId || this.store.getTombstone(remote.room_id)) continue;
        const local = this.store.getRoom(remote.room_id);
        // a host of an older epoch than we promised is not the host any more; a newer one is followed
        if (local && Number(remote.host_epoch) < local.promisedEpoch) continue;
        if (local) this.changes.follow(remote.room_id, nodeId, Number(remote.host_epoch), Number(remote.epoch_start) || 1);
        if (this.authority.refusal(remote.room_id, nodeId)) continue;
        this.applyRoomState(remote);
        this.releaseGhosts(nodeId, remote);
        const before = this.store.getRoom(remote.room_id)?.lastSequence ?? 0;
        if (before < remote.last_sequence) {
          await this.replica.fetchMissing(remote.room_id, nodeId, remote.last_sequence);
          fetched += (this.store.getRoom(remote.room_id)?.lastSequence ?? 0) - before;
        }
      }
      rooms += state.rooms.length;
      deleted += state.deleted.length;
      const next: string | null = state.next_cursor || null;
      // cursors only move forward; a peer that repeats one would otherwise keep us here forever
      if (next !== null && cursor !== null && next <= cursor) throw new Error(`get_room_states from ${nodeId} repeated cursor ${next}`);
      cursor = next;
    } while (cursor !== null);
    this.logger.log(`Caught up with ${nodeId}: ${rooms} room(s), ${fetched} message(s) fetched, ${deleted} deletion(s)`);
  }

  /**
   * Members the host believes are connected through this node but have no socket here (their
   * connection ended while the host was unreachable): tell the host they are gone.
   */
  private releaseGhosts(hostNode: string, remote: HostedRoomState): void {
    for (const m of remote.members) {
      if (m.node_id !== this.config.nodeId || this.clients.usernameInRoom(remote.room_id, m.username)) continue;
      this.logger.log(`Releasing ${m.username} from room ${remote.room_id} at ${hostNode}: no connection here any more`);
      this.peers
        .call(hostNode, 'notify_member_disconnect', [remote.room_id, m.username, this.config.nodeId, 'User disconnected'])
        .catch((e) => this.logger.warn(`Could not release ${m.username} at ${hostNode}: ${(e as Error).message}`));
    }
  }

  private applyRoomState(remote: HostedRoomState): void {
    this.replica.applyRoomMeta(remote);
    this.store.replaceMembers(
      remote.room_id,
      remote.members.map((m) => ({ roomId: remote.room_id, username: m.username, nodeId: m.node_id, joinedAt: m.joined_at, bootId: null })),
    );
  }
}
