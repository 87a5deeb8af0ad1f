import { atLeastAsUpToDate, LOG_ORIGIN, positionOf, type LogPosition } from '../../src/modules/rooms/consensus/log-entry';
import type { Checks } from './check-failure';
import type { LogHistory } from './log-history';
import type { SimNode } from './sim-node';

interface Copy {
  readonly node: string;
  readonly last: LogPosition;
  /** Its disk holds the committed history up to the room's highest committed index. */
  readonly holdsCommitted: boolean;
}

/**
 * Leader completeness, checked before any election happens: a node whose disk lacks a committed
 * entry must never be able to win one. It could if the nodes whose stored logs are no more up to
 * date than its own (each would grant it a vote, after a restart if not before) made a majority.
 * In Raft this cannot happen: a committed entry sits in a majority whose logs are all more up to
 * date than any log without it. Disks only (what a crash leaves); learners do not vote.
 */
export function checkElectability(room: string, nodes: readonly SimNode[], history: LogHistory, checks: Checks): void {
  if (!checks.has('committed entries stay electable')) return;
  const committed = history.committed(room);
  const c = committed.length;
  if (c === 0) return;
  const chainAtC = history.chainAt(room, c);
  const voters: Copy[] = [];
  for (const n of nodes) {
    if (n.disk.rejoin === 'undecided') continue;
    const d = n.disk.rooms.get(room);
    if (!d) {
      if (n.disk.rejoin === 'clean') voters.push({ node: n.id, last: LOG_ORIGIN, holdsCommitted: false }); // would grant anyone a vote
      continue;
    }
    const core = n.process?.cores.get(room);
    if (d.hardState.learner && (core?.state.learner ?? true)) continue;
    voters.push({ node: n.id, last: positionOf(d.entry(d.lastIndex())), holdsCommitted: d.lastIndex() >= c && d.chain[c] === chainAtC });
  }
  const majority = Math.floor(nodes.length / 2) + 1;
  for (const x of voters) {
    if (x.holdsCommitted) continue;
    const electors = voters.filter((y) => atLeastAsUpToDate(x.last, y.last));
    if (electors.length >= majority) {
      checks.fail(
        'committed entries stay electable',
        `${room}: ${x.node} (stored log ends at ${x.last.index}/e${x.last.epoch}) lacks committed entry ${c} (e${committed[c - 1].epoch}) yet ${electors.map((y) => y.node).join(',')} would elect it`,
      );
    }
  }
}
