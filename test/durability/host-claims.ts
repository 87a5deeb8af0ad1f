import type { NodeProcess } from '../../src/cluster/node-process';
import type { AckLedger } from './failover-ledger';
import { readRooms } from './node-store';

/**
 * Samples every running node's rooms.host_node/host_epoch every `intervalMs` while it runs, into
 * the ledger: two nodes naming different hosts for one room and epoch, at any moment, is a violation.
 * Returns the function that stops it.
 */
export function watchHostClaims(ledger: AckLedger, nodes: NodeProcess[], roomIds: string[], intervalMs = 50): () => void {
  const timer = setInterval(() => {
    for (const n of nodes.filter((x) => x.running)) {
      try {
        for (const { room } of readRooms(n, roomIds, { messages: false })) if (room) ledger.claim(room.room_id, room.host_epoch, room.host_node, n.spec.nodeId);
      } catch {
        // a node opening or migrating its database right now: the next sample reads it
      }
    }
  }, intervalMs);
  return () => clearInterval(timer);
}
