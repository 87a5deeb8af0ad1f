import { ChatError } from '../../../../common/errors/chat-error';
import type { ClientRequestType } from '../../../../common/protocol/client-wire';
import { RequestValidationPipe } from './request-validation.pipe';
import { NoParams, SendMessageRequest } from './requests';

describe(RequestValidationPipe.name, () => {
  const run = (type: ClientRequestType, value: unknown) => new RequestValidationPipe(type).transform(value, { type: 'body' });
  const refusal = (type: ClientRequestType, value: unknown) => {
    try {
      run(type, value);
    } catch (e) {
      if (e instanceof ChatError) return { code: e.code, message: e.message };
      throw e;
    }
    throw new Error('expected a refusal');
  };

  it('ignores whatever data list_rooms and discover_rooms carry', () => {
    expect(run('list_rooms', 'anything')).toBeInstanceOf(NoParams);
    expect(run('discover_rooms', null)).toBeInstanceOf(NoParams);
  });

  it('leaves parameters other than the message body alone', () => {
    const socket = { not: 'validated' };
    expect(new RequestValidationPipe('send_message').transform(socket, { type: 'custom' })).toBe(socket);
  });

  it('validates by the type it was made for', () => {
    expect(refusal('create_room', { room_id: 'r', username: 'u' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing room_name or creator_id' });
    expect(run('join_room', { room_id: 'r', username: 'u' })).toEqual(expect.objectContaining({ room_id: 'r', username: 'u' }));
  });

  it('passes a valid send', () => {
    expect(run('send_message', { room_id: 'r', username: 'u', content: 'hi' })).toMatchObject({ content: 'hi' });
  });

  it('checks ids before content, as the reference does', () => {
    expect(refusal('send_message', { content: '' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing room_id or username' });
    expect(refusal('send_message', { room_id: 'r', content: 'x' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing room_id or username' });
  });

  it.each([
    ['', 'Message content cannot be empty'],
    [undefined, 'Message content cannot be empty'],
    [42, 'Message content must be a string'],
    [['a'], 'Message content must be a string'],
    ['5001 x', 'Message content too long (max 5000 characters)'],
    ['bell\u0007', 'Message content contains control characters that cannot be delivered'],
  ])('refuses content %j with INVALID_CONTENT', (content, message) => {
    const value = content === '5001 x' ? 'x'.repeat(5001) : content;
    expect(refusal('send_message', { room_id: 'r', username: 'u', content: value })).toEqual({ code: 'INVALID_CONTENT', message });
  });

  it('counts the 5000 limit in code points, not UTF-16 units', () => {
    expect(run('send_message', { room_id: 'r', username: 'u', content: '😀'.repeat(5000) })).toBeTruthy();
  });

  it('hands the service the normal form of every name (NFKC, trimmed), and ids untouched', () => {
    expect(run('join_room', { room_id: ' r ', username: ' ａｌｉｃｅ ' })).toMatchObject({ room_id: ' r ', username: 'alice' });
    expect(run('create_room', { room_name: ' ｇｅｎｅｒａｌ ', creator_id: 'alice ' })).toMatchObject({ room_name: 'general', creator_id: 'alice' });
  });

  it('refuses invisible and bidirectional-control characters in names with a sentence that says which', () => {
    expect(refusal('join_room', { room_id: 'r', username: 'ali\u200Bce' })).toEqual({ code: 'INVALID_REQUEST', message: 'username must not contain invisible or non-printing characters (U+200B found)' });
    expect(refusal('create_room', { room_name: 'gen\u202Eeral', creator_id: 'alice' })).toEqual({ code: 'INVALID_REQUEST', message: 'room_name must not contain bidirectional control characters (U+202E found)' });
    expect(refusal('create_room', { room_name: 'general', creator_id: '\u3164' }).message).toMatch(/^creator_id must not contain invisible/);
    expect(refusal('send_message', { room_id: 'r', username: '   ', content: 'x' })).toEqual({ code: 'INVALID_REQUEST', message: 'username must not be empty' });
  });

  it('checks invite_user and open_direct names as names (normal form handed on), and private as a boolean', () => {
    expect(run('invite_user', { room_id: 'r', username: 'ann', member: ' ｂｏｂ ' })).toMatchObject({ member: 'bob' });
    expect(refusal('invite_user', { room_id: 'r', username: 'ann' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing member' });
    expect(run('open_direct', { username: 'dave', with: 'erin ' })).toMatchObject({ with: 'erin' });
    expect(refusal('open_direct', { username: 'dave', with: 'e\u200Brin' }).message).toMatch(/^with must not contain invisible/);
    expect(refusal('create_room', { room_name: 'n', creator_id: 'c', private: 'yes' })).toEqual({ code: 'INVALID_REQUEST', message: 'private must be true or false' });
    expect(run('create_room', { room_name: 'n', creator_id: 'c', private: true })).toMatchObject({ private: true });
  });

  it('checks the moderation requests: member as a name, reason as text up to 500, seconds 1 to 30 days', () => {
    expect(run('kick_member', { room_id: 'r', username: 'ann', member: ' ｂｏｂ ', reason: 'spam' })).toMatchObject({ member: 'bob', reason: 'spam' });
    expect(run('ban_member', { room_id: 'r', username: 'ann', member: 'bob' })).toMatchObject({ member: 'bob' });
    expect(refusal('add_moderator', { room_id: 'r', username: 'ann' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing member' });
    expect(refusal('kick_member', { room_id: 'r', username: 'ann', member: 'bob', reason: 'x'.repeat(501) })).toEqual({ code: 'INVALID_REQUEST', message: 'reason must be text of at most 500 characters' });
    expect(run('mute_member', { room_id: 'r', username: 'ann', member: 'bob', seconds: 60 })).toMatchObject({ seconds: 60 });
    for (const seconds of [undefined, 0, 1.5, '60', 30 * 24 * 3600 + 1]) {
      expect(refusal('mute_member', { room_id: 'r', username: 'ann', member: 'bob', seconds })).toEqual({ code: 'INVALID_REQUEST', message: 'seconds must be a whole number from 1 to 2592000' });
    }
  });

  it('refuses non-object data', () => {
    expect(refusal('join_room', null)).toEqual({ code: 'INVALID_REQUEST', message: 'Request data must be a JSON object' });
    expect(refusal('join_room', [1])).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('refuses wrong field types and over-long names', () => {
    expect(refusal('join_room', { room_id: 5, username: 'u' }).code).toBe('INVALID_REQUEST');
    expect(refusal('join_room', { room_id: 'r', username: 'u'.repeat(65) }).message).toContain('username');
    expect(refusal('join_room', { room_id: 'r', username: 'u', since_sequence: -1 }).message).toContain('since_sequence');
    expect(refusal('create_room', { room_name: 'n', creator_id: 'c', description: 7 }).message).toContain('description');
    expect(refusal('create_room', { creator_id: 'c' }).message).toBe('Missing room_name or creator_id');
    expect(refusal('get_history', { room_id: 'r', limit: 201 }).message).toContain('limit');
  });

  describe('hostile JSON (found by test/robustness.e2e-spec.ts)', () => {
    const deep = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as unknown;

    it('refuses deeply nested values in a field with the field\'s own error, not a stack overflow', () => {
      expect(refusal('send_message', { room_id: 'r', username: deep(20_000), content: 'hi' }).code).toBe('INVALID_REQUEST');
      expect(refusal('send_message', { room_id: 'r', username: 'u', content: deep(20_000) })).toEqual({ code: 'INVALID_CONTENT', message: 'Message content must be a string' });
      expect(refusal('get_history', { room_id: 'r', after_sequence: deep(20_000) }).message).toContain('after_sequence');
    });

    it('ignores fields it does not declare, however deep or odd', () => {
      const value = JSON.parse('{"room_id":"r","username":"u","content":"hi","junk":{"constructor":true,"x":[{"constructor":"evil"}]}}') as object;
      expect(run('send_message', { ...value, more: deep(20_000) })).toEqual(Object.assign(new SendMessageRequest(), { room_id: 'r', username: 'u', content: 'hi' }));
    });

    it('refuses a field holding an object with a "constructor" key as a wrong type', () => {
      const value = JSON.parse('{"room_id":{"constructor":5},"username":"u"}') as object;
      expect(refusal('join_room', value)).toEqual({ code: 'INVALID_REQUEST', message: 'room_id must be a string of 1-64 characters' });
      expect(refusal('create_room', JSON.parse('{"room_name":"n","creator_id":"c","description":{"constructor":"x"}}')).message).toContain('description');
    });

    it('validates by the DTO\'s rules even when the data has own "constructor" or "__proto__" keys', () => {
      const value = JSON.parse('{"room_id":5,"username":"u","content":"hi","constructor":{},"__proto__":{"room_id":"r"}}') as object;
      expect(refusal('send_message', value).message).toBe('room_id must be a string of 1-64 characters');
      const ok = run('send_message', JSON.parse('{"room_id":"r","username":"u","content":"hi","__proto__":{"isAdmin":true}}')) as object;
      expect(ok).toBeInstanceOf(SendMessageRequest);
      expect((ok as Record<string, unknown>).isAdmin).toBeUndefined();
    });
  });

  describe('edit_message, delete_message, typing', () => {
    it('needs the message_id, and an edit\'s content follows send_message\'s rules', () => {
      expect(run('edit_message', { room_id: 'r', username: 'u', message_id: 'm1', content: 'new' })).toMatchObject({ message_id: 'm1', content: 'new' });
      expect(refusal('edit_message', { room_id: 'r', username: 'u', content: 'new' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing message_id' });
      expect(refusal('delete_message', { room_id: 'r', username: 'u', message_id: 'm'.repeat(65) })).toEqual({ code: 'INVALID_REQUEST', message: 'message_id must be a string of 1-64 characters' });
      expect(refusal('edit_message', { room_id: 'r', username: 'u', message_id: 'm1', content: '' })).toEqual({ code: 'INVALID_CONTENT', message: 'Message content cannot be empty' });
      expect(refusal('edit_message', { room_id: 'r', username: 'u', message_id: 'm1', content: 'x'.repeat(5001) })).toEqual({ code: 'INVALID_CONTENT', message: 'Message content too long (max 5000 characters)' });
      expect(refusal('delete_message', { message_id: 'm1' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing room_id or username' });
    });

    it('typing takes the room and the user, nothing else', () => {
      expect(run('typing', { room_id: 'r', username: 'u' })).toMatchObject({ room_id: 'r', username: 'u' });
      expect(refusal('typing', { room_id: 'r' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing room_id or username' });
    });
  });

  describe('mark_read, search_messages', () => {
    it('mark_read needs a whole sequence_number >= 0', () => {
      expect(run('mark_read', { room_id: 'r', username: 'u', sequence_number: 0 })).toMatchObject({ sequence_number: 0 });
      expect(refusal('mark_read', { room_id: 'r', username: 'u' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing sequence_number' });
      for (const bad of [-1, 1.5, '3', null, 1e300]) expect(refusal('mark_read', { room_id: 'r', username: 'u', sequence_number: bad }).code).toBe('INVALID_REQUEST');
    });

    it('search_messages needs a query of 1-200 characters; limit 1-100, before_sequence >= 1', () => {
      expect(run('search_messages', { room_id: 'r', username: 'u', query: 'lunch', limit: 100, before_sequence: 1 })).toMatchObject({ query: 'lunch', limit: 100 });
      const badQuery = { code: 'INVALID_REQUEST', message: 'query must be text of 1-200 characters' };
      for (const query of [undefined, '', '   ', 5, 'x'.repeat(201)]) expect(refusal('search_messages', { room_id: 'r', username: 'u', query })).toEqual(badQuery);
      expect(run('search_messages', { room_id: 'r', username: 'u', query: '😀'.repeat(200) })).toBeDefined();
      expect(refusal('search_messages', { room_id: 'r', username: 'u', query: 'a', limit: 101 })).toEqual({ code: 'INVALID_REQUEST', message: 'limit must be a whole number from 1 to 100' });
      expect(refusal('search_messages', { room_id: 'r', username: 'u', query: 'a', before_sequence: 0 }).code).toBe('INVALID_REQUEST');
    });
  });
});
