import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ChatMetrics } from '../../common/metrics/chat-metrics';
import { DiskSpace, type DiskUsage } from '../../common/disk/disk-space';
import { RoomRepository } from '../../common/store/room.repository';
import { ClientRegistry } from '../members/client-registry';
import { PeerDirectory } from '../peers/peer-directory';
import { LogApplier } from '../rooms/replication/log-applier';
import { RoomLogOutbox } from '../rooms/replication/room-log-outbox';

/** What this node holds right now, read from the services when a scrape or the status page asks. */
export interface NodeSnapshot {
  connections: number;
  roomsHosted: number;
  roomsReplica: number;
  messagesTotal: number;
  deliveriesTotal: number;
}

/**
 * Registers the state gauges and the plain-number counters on the node's registry. Every value
 * is read in a collect() callback at scrape time, so request paths only bump a number.
 */
@Injectable()
export class NodeGauges {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
    private readonly applier: LogApplier,
    private readonly outbox: RoomLogOutbox,
    metrics: ChatMetrics,
    private readonly disk: DiskSpace,
  ) {
    const registers = [metrics.registry];
    const self = this;
    peers.observeCalls((peer, method, seconds) => metrics.peerCallDone(peer, method, seconds));
    new Gauge({
      name: 'chat_connections',
      help: 'Client WebSocket connections open on this node',
      registers,
      collect() {
        this.set(self.clients.size);
      },
    });
    new Gauge({
      name: 'chat_rooms',
      help: 'Rooms on this node: kind="hosted" (sequenced here) or kind="replica" (hosted by a peer)',
      labelNames: ['kind'],
      registers,
      collect() {
        const s = self.snapshot();
        this.set({ kind: 'hosted' }, s.roomsHosted);
        this.set({ kind: 'replica' }, s.roomsReplica);
      },
    });
    new Counter({
      name: 'chat_messages_total',
      help: 'Messages committed in rooms this node hosted when they were committed',
      registers,
      collect() {
        this.reset();
        this.inc(self.applier.hostedMessages);
      },
    });
    new Counter({
      name: 'chat_room_changes_total',
      help: 'Changes committed in rooms this node hosted, by change: edit, delete, read_marker, invite, and the moderation actions (kick, ban, unban, mute, add_moderator)',
      labelNames: ['change'],
      registers,
      collect() {
        this.reset();
        for (const [change, n] of self.applier.hostedChanges) this.inc({ change }, n);
      },
    });
    new Counter({
      name: 'chat_deliveries_total',
      help: 'new_message frames written to client sockets on this node',
      registers,
      collect() {
        this.reset();
        this.inc(self.clients.deliveredMessages);
      },
    });
    new Gauge({
      name: 'chat_peer_up',
      help: '1 while the peer answers heartbeats (healthy or degraded), 0 when failed or never seen',
      labelNames: ['peer'],
      registers,
      collect() {
        for (const h of self.peers.allHealth()) this.set({ peer: h.nodeId }, h.status === 'healthy' || h.status === 'degraded' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'chat_replication_pending',
      help: 'Room log messages queued for the peer and not yet sent to it',
      labelNames: ['peer'],
      registers,
      collect() {
        for (const b of self.outbox.backlog()) this.set({ peer: b.peer }, b.pending);
      },
    });
    new Gauge({
      name: 'chat_disk_free_bytes',
      help: 'Bytes the node may still write on the file system that holds DATA_DIR (alert well before 0: writes then fail)',
      registers,
      collect() {
        this.set(self.diskUsage()?.freeBytes ?? Number.NaN); // NaN, not 0 or a stale value, when it cannot be read
      },
    });
    new Gauge({
      name: 'chat_disk_size_bytes',
      help: 'Size of the file system that holds DATA_DIR',
      registers,
      collect() {
        this.set(self.diskUsage()?.totalBytes ?? Number.NaN);
      },
    });
    new Gauge({
      name: 'chat_replication_oldest_pending_seconds',
      help: 'Age of the oldest room log message still queued for the peer (0 when none is)',
      labelNames: ['peer'],
      registers,
      collect() {
        for (const b of self.outbox.backlog()) this.set({ peer: b.peer }, (b.oldestPendingMs ?? 0) / 1000);
      },
    });
  }

  /** Free space where DATA_DIR is, or null when it cannot be read (the gauges then say NaN). */
  diskUsage(): DiskUsage | null {
    try {
      return this.disk.read();
    } catch {
      return null;
    }
  }

  counters(): Pick<NodeSnapshot, 'messagesTotal' | 'deliveriesTotal'> {
    return { messagesTotal: this.applier.hostedMessages, deliveriesTotal: this.clients.deliveredMessages };
  }

  snapshot(): NodeSnapshot {
    let roomsHosted = 0;
    let roomsReplica = 0;
    for (const room of this.rooms.listRooms()) {
      if (room.hostNode === this.config.nodeId) roomsHosted++;
      else roomsReplica++;
    }
    return { connections: this.clients.size, roomsHosted, roomsReplica, messagesTotal: this.applier.hostedMessages, deliveriesTotal: this.clients.deliveredMessages };
  }
}
