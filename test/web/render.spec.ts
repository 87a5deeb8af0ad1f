import { codePointLength, describeError, describeLeave, escapeHtml, formatTime, makeClientMessageId } from '../../web/src/format';
import { messageHtml, pendingHtml, systemHtml } from '../../web/src/render';

describe('escaping and rendering', () => {
  it('escapes every HTML-significant character', () => {
    expect(escapeHtml(`<img src=x onerror="alert('x')">&`)).toBe('&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });

  it('renders a message with escaped sender, content and attributes', () => {
    const html = messageHtml(
      {
        message_id: '"><script>x</script>',
        room_id: 'r',
        username: '<b>eve</b>',
        content: '<script>alert(1)</script>\nline 2',
        sequence_number: 7,
        timestamp: '2026-01-02T03:04:05.000Z',
      },
      { self: 'alice', timeZone: 'UTC' },
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('data-seq="7"');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;\nline 2');
    expect(html).toContain('>03:04:05</time>');
    expect(html).toContain('class="msg"');
  });

  it('marks the user own messages', () => {
    const html = messageHtml(
      { message_id: 'a', room_id: 'r', username: 'alice', content: 'hi', sequence_number: 1, timestamp: 'x' },
      { self: 'alice' },
    );
    expect(html).toContain('class="msg mine"');
    expect(html).toContain('>x</time>'); // unparseable timestamp shown raw, escaped
  });

  it('escapes system and pending lines', () => {
    expect(systemHtml('<i>bob</i> joined', undefined, { self: 'a' })).toBe('<li class="sys">&lt;i&gt;bob&lt;/i&gt; joined</li>');
    const p = pendingHtml('c"1', '<x>', 'al<ice', 'Message too long');
    expect(p).toContain('data-client-id="c&quot;1"');
    expect(p).toContain('&lt;x&gt;');
    expect(p).toContain('al&lt;ice');
    expect(p).toContain('Retry');
  });

  it('says why a queued message is still waiting (the room is switching hosts), escaped, without Retry', () => {
    const p = pendingHtml('c1', 'hi', 'alice', undefined, 'waiting for <the> new host…');
    expect(p).toContain('waiting for &lt;the&gt; new host…');
    expect(p).not.toContain('sending…');
    expect(p).not.toContain('Retry');
    expect(pendingHtml('c1', 'hi', 'alice')).toContain('sending…');
  });
});

describe('text helpers', () => {
  it('counts code points like the server', () => {
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('😀😀')).toBe(2);
    expect('😀😀'.length).toBe(4);
  });

  it('formats times as HH:MM:SS', () => {
    expect(formatTime('2026-11-29T10:40:17.473966+00:00', 'UTC')).toBe('10:40:17');
    expect(formatTime('2026-11-29T10:40:17Z', 'UTC')).toBe('10:40:17');
  });

  it('describes protocol errors clearly', () => {
    expect(describeError('INVALID_CONTENT', 'Message content too long (max 5000 characters)')).toMatch(/too long.*5000/);
    expect(describeError('NOT_MEMBER', 'x', { roomName: 'general' })).toMatch(/not a member of “general”/);
    expect(describeError('ADMIN_NODE_UNAVAILABLE', 'x', { roomName: 'g', adminNode: 'node2' })).toMatch(/host node node2 is down/);
    expect(describeError('ROOM_NOT_FOUND', 'x')).toMatch(/deleted/);
    expect(describeError(undefined, 'plain text')).toBe('plain text');
    expect(describeLeave('bob', 'Inactivity')).toMatch(/inactivity/);
    expect(describeLeave('bob')).toBe('bob left');
  });

  it('makes unique client message ids within the protocol limit', () => {
    const ids = new Set(Array.from({ length: 100 }, () => makeClientMessageId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(64);
  });
});
