import type { Entry } from '../../src/modules/rooms/consensus/log-entry';
import type { Checks } from './check-failure';
import type { LogHistory } from './log-history';
import type { Ack } from './packets';
import type { RoomDisk } from './sim-disk';

interface RoomAcks {
  readonly keyOfSequence: Map<number, string>;
  readonly ackOfKey: Map<string, Ack>;
  /** Acks whose index no node has applied yet: checked when one does. */
  readonly waiting: Map<number, { key: string; ack: Ack }[]>;
}

/**
 * What clients were told, checked against the committed history:
 * (d) every acknowledged message is committed at its acknowledged (index, epoch, sequence), and
 * in the end every node holds it there; (f) one sequence is acknowledged for one message only, and
 * a retried message is acknowledged with one sequence.
 */
export class AckLedger {
  private readonly rooms = new Map<string, RoomAcks>();

  constructor(
    private readonly history: LogHistory,
    private readonly checks: Checks,
  ) {
    history.onCommitted = (room, e) => this.committed(room, e);
  }

  get size(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.ackOfKey.size;
    return n;
  }

  private room(room: string): RoomAcks {
    let r = this.rooms.get(room);
    if (!r) this.rooms.set(room, (r = { keyOfSequence: new Map(), ackOfKey: new Map(), waiting: new Map() }));
    return r;
  }

  acked(room: string, key: string, ack: Ack): void {
    const r = this.room(room);
    const other = r.keyOfSequence.get(ack.sequence);
    if (other !== undefined && other !== key) this.checks.fail('one sequence, one message', `${room}: sequence ${ack.sequence} acknowledged for ${other} and for ${key}`);
    const before = r.ackOfKey.get(key);
    if (before && (before.sequence !== ack.sequence || before.index !== ack.index)) {
      this.checks.fail('one sequence, one message', `${room}: ${key} acknowledged at s${before.sequence}/i${before.index}, then at s${ack.sequence}/i${ack.index}`);
    }
    r.keyOfSequence.set(ack.sequence, key);
    r.ackOfKey.set(key, ack);
    const entry = this.history.committed(room)[ack.index - 1];
    if (entry) this.verify(room, key, ack, entry);
    else r.waiting.set(ack.index, [...(r.waiting.get(ack.index) ?? []), { key, ack }]);
  }

  private committed(room: string, e: Entry): void {
    const r = this.rooms.get(room);
    const list = r?.waiting.get(e.index);
    if (!r || !list) return;
    r.waiting.delete(e.index);
    for (const { key, ack } of list) this.verify(room, key, ack, e);
  }

  private verify(room: string, key: string, ack: Ack, e: Entry): void {
    if (e.clientKey !== key || e.sequence !== ack.sequence || e.epoch !== ack.epoch) {
      this.checks.fail('acknowledged means committed', `${room}: ${key} acknowledged at index ${ack.index} (s${ack.sequence}, e${ack.epoch}) but ${e.clientKey ?? e.kind} (s${e.sequence}, e${e.epoch}) is committed there`);
    }
  }

  /** At the end, on a converged cluster: every ack committed, and on every node's disk where it was acknowledged. */
  finalCheck(disks: ReadonlyMap<string, ReadonlyMap<string, RoomDisk>>): void {
    for (const [room, r] of this.rooms) {
      for (const [index, list] of r.waiting) this.checks.fail('acknowledged means committed', `${room}: ${list[0].key} acknowledged at index ${index}, which never committed`);
      for (const [key, ack] of r.ackOfKey) {
        for (const [node, rooms] of disks) {
          const e = rooms.get(room)?.entry(ack.index);
          if (e?.clientKey !== key || e.sequence !== ack.sequence) this.checks.fail('acknowledged means committed', `${room}: ${node} does not hold ${key} at index ${ack.index} (s${ack.sequence}) in the end`);
        }
      }
    }
  }
}
