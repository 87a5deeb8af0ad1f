import type { Logger } from '@nestjs/common';
import type { Clock } from '../../common/clock/clock';
import type { NodeConfig } from '../../common/config/node-config';
import type { ForwardItem, PeerResult } from '../../common/protocol/peer-wire';
import { PEER_BATCH_BYTES, type XmlRpcClient } from '../../common/xmlrpc';
import { CallCoalescer } from './call-coalescer';
import { EarlierVersionFallback, forwardItemBytes, tooManyParams, unknownMethod } from './earlier-version-fallback';
import { peerClients } from './peer-clients';
import { PeerHealth } from './peer-health';
import { PeerSuspicion } from './peer-suspicion';

type ForwardResult = PeerResult<'forward_message'>;

/** Everything this node keeps for one configured peer (PeerDirectory holds one per peer). */
export interface PeerLink {
  nodeId: string;
  url: string;
  client: XmlRpcClient;
  /** Heartbeats and failover probes share their own connection: data traffic queued to a busy peer never delays them. */
  pulse: XmlRpcClient;
  /** Concurrent forwards to this peer share calls, in order. */
  forwards: CallCoalescer<ForwardItem, ForwardResult>;
  health: PeerHealth;
  /** The peer answered a JSON batch method with "unknown method" (an earlier version). */
  batches: EarlierVersionFallback;
  /** The peer refused this node's disk as a trailing param of heartbeat and room_log_json (an earlier version). */
  disks: EarlierVersionFallback;
  suspicion: PeerSuspicion;
  /** When heardFrom() last heard the peer (monotonic; -Infinity before): PeerPulse does not probe a peer that keeps calling. */
  heardAt: number;
  /** Aborted when the peer becomes suspected: calls waiting on a dead peer end at once, not at their timeout. */
  calls: AbortController;
  /** Its node list differs from ours (a different cluster view): it never counts, and nothing goes to it. */
  otherView: string | null;
}

/** A new link to `nodeId`; `forward` makes one call for a run of forwards (PeerDirectory decides how). */
export function peerLink(config: NodeConfig, nodeId: string, url: string, clock: Clock, logger: Logger, forward: (link: PeerLink, items: ForwardItem[]) => Promise<ForwardResult[]>): PeerLink {
  const { client, pulse } = peerClients(config, nodeId, url, clock);
  const link: PeerLink = {
    nodeId,
    url,
    client,
    pulse,
    forwards: new CallCoalescer<ForwardItem, ForwardResult>((items) => forward(link, items), { sizeOf: forwardItemBytes, maxBytes: PEER_BATCH_BYTES }),
    health: new PeerHealth(nodeId, config.maxHeartbeatFailures),
    batches: new EarlierVersionFallback(nodeId, logger, unknownMethod, 'does not know the JSON batch methods; using XML-RPC structs with it'),
    disks: new EarlierVersionFallback(nodeId, logger, tooManyParams, "does not take this node's disk in heartbeat and room_log_json; calling it without"),
    suspicion: new PeerSuspicion(clock.monotonic()),
    heardAt: Number.NEGATIVE_INFINITY,
    calls: new AbortController(),
    otherView: null,
  };
  return link;
}
