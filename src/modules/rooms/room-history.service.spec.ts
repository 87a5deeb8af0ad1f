import { boundPage } from './room-history.service';
import type { ChatMessage } from './wire';

const message = (seq: number, size: number): ChatMessage => ({
  message_id: `m${seq}`,
  room_id: 'r',
  username: 'u',
  content: 'x'.repeat(size),
  sequence_number: seq,
  timestamp: '2026-01-01T00:00:00.000Z',
});

describe(boundPage.name, () => {
  const page = Array.from({ length: 200 }, (_, i) => message(i + 1, 5000));

  it('keeps a page under the byte bound, nearest where the client pages from', () => {
    const forward = boundPage(page, true, 100_000);
    expect(forward.cut).toBe(true);
    expect(forward.messages[0].sequence_number).toBe(1);
    expect(Buffer.byteLength(JSON.stringify(forward.messages))).toBeLessThanOrEqual(100_000);

    const back = boundPage(page, false, 100_000);
    expect(back.messages.at(-1)!.sequence_number).toBe(200);
    expect(back.messages.length).toBe(forward.messages.length);
  });

  it('leaves a small page alone and always keeps one message', () => {
    expect(boundPage(page.slice(0, 3), true)).toEqual({ messages: page.slice(0, 3), cut: false });
    expect(boundPage([message(1, 5000)], true, 10).messages).toHaveLength(1);
  });
});
