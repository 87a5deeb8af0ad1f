import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ChatStore } from '../../common/store/chat-store';
import { RoomLogRepository, type DiskIdentity } from '../../common/store/room-log.repository';

/** A peer's disk as this node remembers it (sent in heartbeats, so a peer learns whether it was known with another disk). */
export interface RememberedDisk {
  disk: string;
  replaced: string | null;
}

/**
 * This node's disk identity (a UUID written when its database was created) and the identities
 * of its peers' disks, kept on disk. A peer that comes back with another disk has forgotten its
 * votes and what it stored: it must rejoin as a learner (RejoinStatus), and its hosts must not
 * count what it said before. Also the cluster view: a hash of the node list, compared in
 * heartbeats, so two nodes configured with different clusters never count each other.
 */
@Injectable()
export class NodeDisk {
  private readonly logger = new Logger(NodeDisk.name);
  readonly identity: DiskIdentity;
  private readonly remembered = new Map<string, RememberedDisk>();
  /** What each peer remembers of this node's disk (null: it never heard of it). */
  private readonly theirMemory = new Map<string, RememberedDisk | null>();
  readonly clusterView: string;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    /** The whole store, read once: whether this run created its database (a fresh disk). */
    store: ChatStore,
    private readonly storedLogs: RoomLogRepository,
    clock: Clock,
  ) {
    this.identity = storedLogs.diskIdentity(store.createdInThisRun, clock.iso());
    for (const p of storedLogs.peerDisks()) this.remembered.set(p.nodeId, { disk: p.diskId, replaced: p.replacedDiskId });
    this.clusterView = NodeDisk.viewOf([config.nodeId, ...config.peers.map((p) => p.nodeId)]);
  }

  /** The hash of a cluster's node list, as every node of it computes it. */
  static viewOf(nodes: readonly string[]): string {
    return createHash('sha256').update([...new Set(nodes)].sort().join('\n')).digest('hex').slice(0, 16);
  }

  get diskId(): string {
    return this.identity.diskId;
  }

  /** For heartbeat answers: every peer's disk as this node knows it. */
  memory(): Record<string, RememberedDisk> {
    return Object.fromEntries(this.remembered);
  }

  rememberedOf(peer: string): RememberedDisk | undefined {
    return this.remembered.get(peer);
  }

  /** What `peer` remembers of this node, once it said (undefined: not heard yet). */
  memoryOf(peer: string): RememberedDisk | null | undefined {
    return this.theirMemory.get(peer);
  }

  /**
   * Why a room log call `peer` sent from its disk `disk` must not be taken, or null. Only the disk
   * this node last heard in a heartbeat speaks for the peer: a late call from the disk it replaced
   * was sent by a process that is gone, and what it says (a vote, a stored entry) the new disk has
   * forgotten; a disk not heard yet is taken once its heartbeat names it (the sender sends again).
   * A peer never heard of is remembered by the disk its first call names; a node of an earlier
   * version names none and is taken as it is.
   */
  refusal(peer: string, disk: string | undefined): string | null {
    if (!disk) return null;
    const known = this.remembered.get(peer);
    if (!known) {
      this.heard(peer, disk, undefined);
      return null;
    }
    if (known.disk === disk) return null;
    return known.replaced === disk
      ? `${peer} sent this from a data directory it has since replaced (disk ${disk.slice(0, 8)}, now ${known.disk.slice(0, 8)})`
      : `${peer} sent this from a data directory not heard in a heartbeat yet (disk ${disk.slice(0, 8)})`;
  }

  /**
   * A peer's heartbeat: its disk, and what it remembers of ours. True when its disk is not the
   * one this node knew (it was wiped or replaced); the first disk seen is simply remembered.
   */
  heard(peer: string, disk: string | undefined, memoryOfMe: RememberedDisk | null | undefined): boolean {
    if (memoryOfMe !== undefined) this.theirMemory.set(peer, memoryOfMe);
    if (!disk) return false;
    const known = this.remembered.get(peer);
    if (known?.disk === disk) return false;
    this.storedLogs.rememberPeerDisk(peer, disk);
    this.remembered.set(peer, { disk, replaced: known?.disk ?? null });
    if (!known) return false;
    this.logger.warn(`Peer ${peer} came back with another data directory (disk ${disk.slice(0, 8)}, was ${known.disk.slice(0, 8)}): it rejoins its rooms as a learner`);
    return true;
  }
}
