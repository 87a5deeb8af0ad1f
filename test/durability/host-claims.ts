import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../../src/cluster/node-process';
import type { AckLedger } from './failover-ledger';

/**
 * Samples every running node's rooms.host_node/host_epoch every `intervalMs` while it runs, into
 * the ledger: two nodes naming different hosts for one room and epoch, at any moment, is a violation.
 * Returns the function that stops it.
 */
export function watchHostClaims(ledger: AckLedger, nodes: NodeProcess[], roomIds: string[], intervalMs = 50): () => void {
  const timer = setInterval(() => {
    for (const n of nodes.filter((x) => x.running)) {
      try {
        for (const r of readHosts(n, roomIds)) ledger.claim(r.room_id, Number(r.host_epoch), r.host_node, n.spec.nodeId);
      } catch {
        // a node opening or migrating its database right now: the next sample reads it
      }
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

/** Just the rooms' host columns (cheap enough to sample every few ms). */
function readHosts(node: NodeProcess, roomIds: string[]): { room_id: string; host_node: string; host_epoch: number }[] {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    const q = db.prepare('SELECT room_id, host_node, host_epoch FROM rooms WHERE room_id = ?');
    return roomIds.map((id) => q.get(id) as { room_id: string; host_node: string; host_epoch: number } | undefined).filter((r) => r !== undefined);
  } finally {
    db.close();
  }
}
