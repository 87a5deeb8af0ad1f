/**
 * The simulator's pending events, taken earliest first; events due at the same time come out in
 * the order they were scheduled, so a run depends on nothing but its seed.
 */
export class EventQueue<T> {
  private readonly heap: { time: number; order: number; item: T }[] = [];
  private scheduled = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, item: T): void {
    const node = { time, order: this.scheduled++, item };
    const h = this.heap;
    h.push(node);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(node, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = node;
  }

  /** The time of the next event (Infinity when none). */
  peekTime(): number {
    return this.heap.length > 0 ? this.heap[0].time : Infinity;
  }

  pop(): { time: number; item: T } | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return { time: top.time, item: top.item };
  }

  private before(a: { time: number; order: number }, b: { time: number; order: number }): boolean {
    return a.time < b.time || (a.time === b.time && a.order < b.order);
  }
}
