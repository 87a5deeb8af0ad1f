import { encodeMethodCall, xmlTextBytes } from '../../../common/xmlrpc';
import type { Entry } from '../consensus/log-entry';
import { entryBytes } from './entry-bytes';

const message = (content: string, clientMessageId: string | null = null): Entry => ({
  index: 2 ** 40,
  epoch: 2 ** 30,
  kind: 'message',
  sequence: 2 ** 40,
  clientKey: clientMessageId ? `${'u'.repeat(50)}\u0000${clientMessageId}` : null,
  data: { message_id: '00000000-0000-4000-8000-000000000000', username: 'u'.repeat(50), content, timestamp: '2026-01-01T00:00:00.000Z', client_message_id: clientMessageId },
});
/** What the entry adds to a room_log_json call, encoded. */
const onTheWire = (e: Entry) => Buffer.byteLength(encodeMethodCall('room_log_json', ['node1', JSON.stringify([e])])) - Buffer.byteLength(encodeMethodCall('room_log_json', ['node1', '[]']));

describe(entryBytes.name, () => {
  it('is close to what an entry of plain text takes on the wire', () => {
    for (const e of [message('hello'), message('x'.repeat(5000), 'c'.repeat(100)), { ...message(''), kind: 'noop', data: null }]) {
      expect(entryBytes(e)).toBeGreaterThan(onTheWire(e) * 0.8);
      expect(entryBytes(e)).toBeLessThan(onTheWire(e) * 1.5);
    }
  });

  // a host fills an append up to maxAppendBytes (96 KiB) by this estimate: whatever the text, the
  // call must stay under the peers' 1 MiB body limit, so the estimate may be low by a bounded factor only
  it.each(['&', '<', '"', '\\', '\r', '\u0001', '\u{1F600}', 'é'])('is never below a fifth of what an entry of %j takes encoded', (fill) => {
    const e = message(fill.repeat(5000 / fill.length), fill.repeat(100 / fill.length));
    expect(entryBytes(e) * 5).toBeGreaterThanOrEqual(onTheWire(e));
    expect(xmlTextBytes(JSON.stringify(e))).toBeLessThanOrEqual(onTheWire(e)); // the outbox's own measure is exact
  });

  it('is computed once per entry (an entry is immutable once written)', () => {
    const e = message('hello');
    const first = entryBytes(e);
    (e.data as { content: string }).content = 'x'.repeat(10_000);
    expect(entryBytes(e)).toBe(first);
  });
});
