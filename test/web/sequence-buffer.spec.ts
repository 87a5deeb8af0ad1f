import { SequenceBuffer } from '../../web/src/sequence-buffer';

const m = (seq: number, id = `m${seq}`) => ({ sequence_number: seq, message_id: id });
const seqs = (list: { sequence_number: number }[]) => list.map((x) => x.sequence_number);

describe('SequenceBuffer', () => {
  it('releases in-order messages at once and tracks the last sequence', () => {
    const b = new SequenceBuffer();
    expect(seqs(b.add(m(1)))).toEqual([1]);
    expect(seqs(b.add(m(2)))).toEqual([2]);
    expect(b.lastSeq).toBe(2);
    expect(b.hasGap).toBe(false);
  });

  it('holds messages behind a gap and releases the run once it is filled', () => {
    const b = new SequenceBuffer();
    expect(b.add(m(3))).toEqual([]);
    expect(b.add(m(2))).toEqual([]);
    expect(b.gap()).toEqual({ from: 1, to: 1 });
    expect(b.hasGap).toBe(true);
    expect(seqs(b.add(m(1)))).toEqual([1, 2, 3]);
    expect(b.lastSeq).toBe(3);
    expect(b.gap()).toBeNull();
  });

  it('drops duplicates by sequence number and by message id', () => {
    const b = new SequenceBuffer();
    b.add(m(1));
    expect(b.add(m(1))).toEqual([]);
    expect(b.add(m(3))).toEqual([]);
    expect(b.add(m(3, 'other'))).toEqual([]); // same seq already held
    expect(seqs(b.add(m(2)))).toEqual([2, 3]);
    expect(b.add({ sequence_number: 4, message_id: 'm1' })).toEqual([]); // id already shown
    expect(b.lastSeq).toBe(3);
  });

  it('ignores invalid sequence numbers', () => {
    const b = new SequenceBuffer();
    for (const bad of [0, -1, 1.5, NaN, '2' as unknown as number, undefined as unknown as number]) {
      expect(b.add({ sequence_number: bad, message_id: 'x' })).toEqual([]);
    }
    expect(b.pendingCount).toBe(0);
  });

  it('resumes after a given sequence (reconnect with since_sequence)', () => {
    const b = new SequenceBuffer(41);
    expect(b.add(m(40))).toEqual([]);
    expect(b.add(m(41))).toEqual([]);
    expect(seqs(b.add(m(42)))).toEqual([42]);
  });

  it('anchors on the first message when the start is unknown', () => {
    const b = new SequenceBuffer(null);
    expect(b.isAnchored).toBe(false);
    expect(seqs(b.addAll([m(101), m(102)]))).toEqual([101, 102]);
    expect(b.isAnchored).toBe(true);
    expect(b.add(m(100))).toEqual([]);
  });

  it('skipGap gives up on missing numbers and releases what is held', () => {
    const b = new SequenceBuffer(5);
    b.add(m(8));
    b.add(m(9));
    expect(seqs(b.skipGap())).toEqual([8, 9]);
    expect(b.lastSeq).toBe(9);
    expect(b.add(m(7))).toEqual([]);
  });

  it('jumps over a gap when too many messages are held', () => {
    const b = new SequenceBuffer(0, 3);
    b.addAll([m(3), m(4), m(5)]);
    expect(seqs(b.add(m(6)))).toEqual([3, 4, 5, 6]);
  });

  it('reset starts over from the given sequence', () => {
    const b = new SequenceBuffer();
    b.addAll([m(1), m(3)]);
    b.reset(10);
    expect(b.pendingCount).toBe(0);
    expect(seqs(b.add(m(11)))).toEqual([11]);
  });

  it('delivers a shuffled stream exactly once, in order', () => {
    const b = new SequenceBuffer();
    const input = Array.from({ length: 200 }, (_, i) => m(i + 1));
    const shuffled = [...input, ...input.slice(50, 120)].sort(() => Math.random() - 0.5);
    const out = b.addAll(shuffled);
    expect(seqs(out)).toEqual(input.map((x) => x.sequence_number));
  });
});
