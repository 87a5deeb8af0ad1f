// Per-room reorder buffer: releases messages in sequence order with no gaps, drops duplicates
// (by sequence number and by message id) and remembers the last sequence released.
// No DOM access: unit-tested under node (test/web/sequence-buffer.spec.ts).

export interface Sequenced {
  sequence_number: number;
  message_id?: string;
}

const DEFAULT_MAX_PENDING = 2000;
const REMEMBERED_IDS = 5000;

export class SequenceBuffer<M extends Sequenced = Sequenced> {
  private last: number;
  private anchored: boolean;
  private readonly pending = new Map<number, M>();
  private readonly seenIds = new Set<string>();
  private readonly seenOrder: string[] = [];

  /**
   * @param lastSeq the sequence already shown (0 = nothing yet). `null` means "unknown": the
   *   first message added sets the start (used when the server gives no sequence bounds).
   */
  constructor(lastSeq: number | null = 0, private readonly maxPending = DEFAULT_MAX_PENDING) {
    this.last = lastSeq ?? 0;
    this.anchored = lastSeq !== null;
  }

  /** Highest sequence released so far, i.e. the value to resume from. */
  get lastSeq(): number {
    return this.last;
  }

  get isAnchored(): boolean {
    return this.anchored;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** True when messages are held back waiting for a missing lower sequence number. */
  get hasGap(): boolean {
    return this.pending.size > 0;
  }

  /** The missing range [from, to] before the lowest held message, or null. */
  gap(): { from: number; to: number } | null {
    if (this.pending.size === 0) return null;
    return { from: this.last + 1, to: this.lowestPending() - 1 };
  }

  /**
   * Adds one message; returns the messages now ready to show, in order (possibly none).
   * Invalid, already-shown and duplicate messages are ignored.
   */
  add(message: M): M[] {
    const seq = message?.sequence_number;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return [];
    if (!this.anchored) {
      this.anchored = true;
      this.last = seq - 1;
    }
    if (seq <= this.last || this.pending.has(seq)) return [];
    const id = message.message_id;
    if (typeof id === 'string' && this.seenIds.has(id)) return [];
    this.pending.set(seq, message);
    if (this.pending.size > this.maxPending) {
      // Too far behind: give up on the gap rather than hold messages forever.
      this.last = this.lowestPending() - 1;
    }
    return this.drain();
  }

  /** Adds several messages (any order); returns what became ready, in order. */
  addAll(messages: Iterable<M>): M[] {
    const out: M[] = [];
    for (const m of messages) out.push(...this.add(m));
    return out;
  }

  /** Gives up on the current gap: releases held messages from the lowest one on. */
  skipGap(): M[] {
    if (this.pending.size === 0) return [];
    this.last = this.lowestPending() - 1;
    return this.drain();
  }

  /** Changes a message still held back (an edit or a deletion arrived before the gap in front of it closed); false when none is. */
  update(sequence: number, change: Partial<M>): boolean {
    const held = this.pending.get(sequence);
    if (!held) return false;
    this.pending.set(sequence, { ...held, ...change });
    return true;
  }

  /** Forgets everything; the next expected sequence becomes lastSeq + 1. */
  reset(lastSeq: number | null = 0): void {
    this.pending.clear();
    this.last = lastSeq ?? 0;
    this.anchored = lastSeq !== null;
  }

  private lowestPending(): number {
    let min = Infinity;
    for (const s of this.pending.keys()) if (s < min) min = s;
    return min;
  }

  private drain(): M[] {
    const out: M[] = [];
    for (;;) {
      const next = this.pending.get(this.last + 1);
      if (!next) break;
      this.pending.delete(this.last + 1);
      this.last += 1;
      this.remember(next.message_id);
      out.push(next);
    }
    return out;
  }

  private remember(id: string | undefined): void {
    if (typeof id !== 'string') return;
    this.seenIds.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > REMEMBERED_IDS) this.seenIds.delete(this.seenOrder.shift()!);
  }
}
