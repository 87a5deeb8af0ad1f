import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { HostedRoomState, PeerResult } from '../../../common/protocol/peer-wire';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { RoomLogPeers } from '../replication/room-log-peers';
import { ReplicaService } from './replica.service';

/**
 * What the rooms' logs cannot bring by themselves, pulled from a peer (at boot, when it comes
 * back, when it restarted): rooms deleted while this node was away (a deleted room has no log
 * left to replicate), members the peer's rooms believe connected through this node that have no
 * socket here, and, while this node rejoins with a new disk, the rooms it must learn as a learner.
 */
@Injectable()
export class PeerCatchUp implements OnModuleDestroy {
  private readonly logger = new Logger(PeerCatchUp.name);
  /** One catch-up per peer at a time; a second request joins the running one. */
  private readonly syncing = new Map<string, Promise<void>>();
  /** Peers caught up with since this node started rejoining. */
  private readonly rejoinedWith = new Set<string>();
  /** Peers whose last catch-up failed: tried again when they next answer. */
  private readonly failed = new Set<string>();
  /** Peers whose members could not be released yet, with the catch-ups tried again for that. */
  private readonly ghostRetries = new Map<string, { tries: number; timer: NodeJS.Timeout | null }>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly tombstones: TombstoneRepository,
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
    private readonly replica: ReplicaService,
    private readonly logs: RoomLogPeers,
  ) {}

  onModuleDestroy(): void {
    for (const r of this.ghostRetries.values()) if (r.timer) clearTimeout(r.timer);
    this.ghostRetries.clear();
  }

  syncFrom(nodeId: string): Promise<void> {
    const running = this.syncing.get(nodeId);
    if (running) return running;
    const task = this.doSync(nodeId)
      .then(() => void this.failed.delete(nodeId))
      .catch((e) => {
        this.failed.add(nodeId);
        this.logger.warn(`Catch-up from ${nodeId} failed (tried again when it next answers): ${(e as Error).message}`);
      })
      .finally(() => this.syncing.delete(nodeId));
    this.syncing.set(nodeId, task);
    return task;
  }

  /** The peer answers (again): a catch-up with it that failed is tried again. */
  retryIfFailed(nodeId: string): void {
    if (this.failed.has(nodeId)) void this.syncFrom(nodeId);
  }

  private async doSync(nodeId: string): Promise<void> {
    let rooms = 0;
    let deleted = 0;
    let cursor: string | null = null;
    do {
      const state: PeerResult<'get_room_states'> = await this.peers.call(nodeId, 'get_room_states', cursor === null ? [] : [cursor]);
      // a tombstone is written only when a committed deletion is applied: whoever holds one may pass it on
      for (const d of state.deleted) {
        if (this.tombstones.getTombstone(d.room_id)) continue;
        this.replica.applyDeleted(d.room_id, d.room_name, d.transaction_id, nodeId);
        deleted++;
      }
      for (const remote of state.rooms) {
        if (this.tombstones.getTombstone(remote.room_id)) continue;
        this.logs.know(remote.room_id);
        if (remote.host_node === nodeId || remote.host_node === null) this.releaseGhosts(nodeId, remote);
      }
      rooms += state.rooms.length;
      const next: string | null = state.next_cursor || null;
      // cursors only move forward; a peer that repeats one would otherwise keep us here forever
      if (next !== null && cursor !== null && next <= cursor) throw new Error(`get_room_states from ${nodeId} repeated cursor ${next}`);
      cursor = next;
    } while (cursor !== null);
    this.logger.log(`Caught up with ${nodeId}: ${rooms} room(s), ${deleted} deletion(s)`);
    this.rejoinedWith.add(nodeId);
    if (this.peers.nodeIds.every((p) => this.rejoinedWith.has(p))) this.logs.rejoined();
  }

  /**
   * Members the peer's room believes are connected through this node but have no socket here
   * (their connection ended while it was unreachable): tell the peer, which hosts the room, they are gone.
   */
  private releaseGhosts(hostNode: string, remote: HostedRoomState): void {
    for (const m of remote.members) {
      if (m.node_id !== this.config.nodeId || this.clients.usernameInRoom(remote.room_id, m.username)) continue;
      // no host right now (the peer restarted and is being elected again, say): ask again in a moment
      if (remote.host_node === null) return this.releaseLater(hostNode);
      this.logger.log(`Releasing ${m.username} from room ${remote.room_id} at ${hostNode}: no connection here any more`);
      this.peers
        .call(hostNode, 'notify_member_disconnect', [remote.room_id, m.username, this.config.nodeId, 'User disconnected'])
        .then((r) => {
          if (!r.success) throw new Error(r.message); // not its host (yet): it is being elected again, say
          this.ghostRetries.delete(hostNode);
        })
        .catch((e) => {
          this.logger.warn(`Could not release ${m.username} at ${hostNode} (tried again): ${(e as Error).message}`);
          this.releaseLater(hostNode);
        });
    }
  }

  /** The peer's rooms are read again in a second, to release what could not be (at most ten times in a row). */
  private releaseLater(nodeId: string): void {
    const retry = this.ghostRetries.get(nodeId) ?? { tries: 0, timer: null };
    if (retry.timer || retry.tries >= 10) return;
    retry.tries++;
    retry.timer = setTimeout(() => {
      retry.timer = null;
      void this.syncFrom(nodeId);
    }, 1000);
    this.ghostRetries.set(nodeId, retry);
  }
}
