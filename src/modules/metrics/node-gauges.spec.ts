import { loadConfig } from '../../common/config/load-config';
import { ChatMetrics } from '../../common/metrics/chat-metrics';
import type { RoomRepository } from '../../common/store/room.repository';
import type { DiskSpace, DiskUsage } from '../../common/disk/disk-space';
import { parseExposition, sampleValue } from '../../testing/prometheus-text';
import type { ClientRegistry } from '../members/client-registry';
import type { PeerCallObserver, PeerDirectory } from '../peers/peer-directory';
import { PeerHealth } from '../peers/peer-health';
import type { LogApplier } from '../rooms/replication/log-applier';
import type { RoomLogOutbox, ReplicationBacklog } from '../rooms/replication/room-log-outbox';
import { NodeGauges } from './node-gauges';

describe(NodeGauges.name, () => {
  const config = loadConfig({ NODE_ID: 'node1', PEER_NODES: 'node2:h2:9090,node3:h3:9090' });
  let clients: { size: number; deliveredMessages: number };
  let applier: { hostedMessages: number; hostedChanges: Map<string, number> };
  let health: PeerHealth[];
  let backlog: ReplicationBacklog[];
  let observer: PeerCallObserver | undefined;
  let metrics: ChatMetrics;
  let disk: DiskUsage | null;
  let sut: NodeGauges;

  beforeEach(() => {
    clients = { size: 3, deliveredMessages: 40 };
    applier = { hostedMessages: 7, hostedChanges: new Map([['edit', 3]]) };
    health = [new PeerHealth('node2', 2), new PeerHealth('node3', 2)];
    health[0].success(1000);
    health[1].failure();
    health[1].failure();
    backlog = [
      { peer: 'node2', pending: 0, oldestPendingMs: null, failing: false, failures: 0, lastError: null },
      { peer: 'node3', pending: 12, oldestPendingMs: 4500, failing: true, failures: 3, lastError: 'timeout' },
    ];
    const peers = { allHealth: () => health, observeCalls: (o: PeerCallObserver) => (observer = o) };
    const outbox = { backlog: () => backlog };
    const rooms = [{ hostNode: 'node1' }, { hostNode: 'node1' }, { hostNode: 'node2' }];
    const roomRepository = { listRooms: () => rooms };
    metrics = new ChatMetrics();
    disk = { path: '/data', freeBytes: 5 * 2 ** 30, totalBytes: 20 * 2 ** 30 };
    const diskSpace = { read: () => disk ?? (() => { throw new Error('EACCES'); })() } as DiskSpace;
    sut = new NodeGauges(config, roomRepository as unknown as RoomRepository, clients as unknown as ClientRegistry, peers as unknown as PeerDirectory, applier as unknown as LogApplier, outbox as unknown as RoomLogOutbox, metrics, diskSpace);
  });

  const scrape = async () => parseExposition((await metrics.exposition()).body);

  it('reads connections, rooms by kind and the counters at scrape time', async () => {
    let parsed = await scrape();
    expect(sampleValue(parsed, 'chat_connections')).toBe(3);
    expect(sampleValue(parsed, 'chat_rooms', { kind: 'hosted' })).toBe(2);
    expect(sampleValue(parsed, 'chat_rooms', { kind: 'replica' })).toBe(1);
    expect(sampleValue(parsed, 'chat_messages_total')).toBe(7);
    expect(sampleValue(parsed, 'chat_deliveries_total')).toBe(40);
    expect(sampleValue(parsed, 'chat_room_changes_total', { change: 'edit' })).toBe(3);
    applier.hostedMessages += 5;
    applier.hostedChanges.set('ban', 1);
    clients.deliveredMessages += 15;
    parsed = await scrape();
    expect(sampleValue(parsed, 'chat_messages_total')).toBe(12);
    expect(sampleValue(parsed, 'chat_deliveries_total')).toBe(55);
    expect(sampleValue(parsed, 'chat_room_changes_total', { change: 'ban' })).toBe(1);
  });

  it('shows each peer up or down and its replication backlog', async () => {
    const parsed = await scrape();
    expect(sampleValue(parsed, 'chat_peer_up', { peer: 'node2' })).toBe(1);
    expect(sampleValue(parsed, 'chat_peer_up', { peer: 'node3' })).toBe(0);
    expect(sampleValue(parsed, 'chat_replication_pending', { peer: 'node3' })).toBe(12);
    expect(sampleValue(parsed, 'chat_replication_oldest_pending_seconds', { peer: 'node3' })).toBe(4.5);
    expect(sampleValue(parsed, 'chat_replication_oldest_pending_seconds', { peer: 'node2' })).toBe(0);
  });

  it('turns the peer directory call reports into chat_peer_call_seconds', async () => {
    observer?.('node2', 'heartbeat', 0.003);
    expect(sampleValue(await scrape(), 'chat_peer_call_seconds_count', { peer: 'node2', method: 'heartbeat' })).toBe(1);
  });

  it('shows the free and total space where DATA_DIR is, read at scrape time, and NaN when it cannot be read', async () => {
    let parsed = await scrape();
    expect(sampleValue(parsed, 'chat_disk_free_bytes')).toBe(5 * 2 ** 30);
    expect(sampleValue(parsed, 'chat_disk_size_bytes')).toBe(20 * 2 ** 30);
    disk = { path: '/data', freeBytes: 1024, totalBytes: 20 * 2 ** 30 };
    expect(sampleValue(await scrape(), 'chat_disk_free_bytes')).toBe(1024);
    disk = null;
    expect(sampleValue(await scrape(), 'chat_disk_free_bytes')).toBeNaN();
  });

  it('snapshots the same numbers for the status page', () => {
    expect(sut.snapshot()).toEqual({ connections: 3, roomsHosted: 2, roomsReplica: 1, messagesTotal: 7, deliveriesTotal: 40 });
  });
});
