import { ChatError } from '../../../../common/errors/chat-error';
import { RequestValidationPipe } from './request-validation.pipe';
import { CreateRoomRequest, GetHistoryRequest, JoinRoomRequest, SendMessageRequest } from './requests';

describe(RequestValidationPipe.name, () => {
  const sut = new RequestValidationPipe();
  const run = (metatype: new () => object, value: unknown) => sut.transform(value, { type: 'body', metatype });
  const refusal = (metatype: new () => object, value: unknown) => {
    try {
      run(metatype, value);
    } catch (e) {
      if (e instanceof ChatError) return { code: e.code, message: e.message };
      throw e;
    }
    throw new Error('expected a refusal');
  };

  it('passes a valid send', () => {
    expect(run(SendMessageRequest, { room_id: 'r', username: 'u', content: 'hi' })).toMatchObject({ content: 'hi' });
  });

  it('checks ids before content, as the reference does', () => {
    expect(refusal(SendMessageRequest, { content: '' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing room_id or username' });
    expect(refusal(SendMessageRequest, { room_id: 'r', content: 'x' })).toEqual({ code: 'INVALID_REQUEST', message: 'Missing room_id or username' });
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
    expect(refusal(SendMessageRequest, { room_id: 'r', username: 'u', content: value })).toEqual({ code: 'INVALID_CONTENT', message });
  });

  it('counts the 5000 limit in code points, not UTF-16 units', () => {
    expect(run(SendMessageRequest, { room_id: 'r', username: 'u', content: '😀'.repeat(5000) })).toBeTruthy();
  });

  it('hands the service the normal form of every name (NFKC, trimmed), and ids untouched', () => {
    expect(run(JoinRoomRequest, { room_id: ' r ', username: ' ａｌｉｃｅ ' })).toMatchObject({ room_id: ' r ', username: 'alice' });
    expect(run(CreateRoomRequest, { room_name: ' ｇｅｎｅｒａｌ ', creator_id: 'alice ' })).toMatchObject({ room_name: 'general', creator_id: 'alice' });
  });

  it('refuses invisible and bidirectional-control characters in names with a sentence that says which', () => {
    expect(refusal(JoinRoomRequest, { room_id: 'r', username: 'ali\u200Bce' })).toEqual({ code: 'INVALID_REQUEST', message: 'username must not contain invisible or non-printing characters (U+200B found)' });
    expect(refusal(CreateRoomRequest, { room_name: 'gen\u202Eeral', creator_id: 'alice' })).toEqual({ code: 'INVALID_REQUEST', message: 'room_name must not contain bidirectional control characters (U+202E found)' });
    expect(refusal(CreateRoomRequest, { room_name: 'general', creator_id: '\u3164' }).message).toMatch(/^creator_id must not contain invisible/);
    expect(refusal(SendMessageRequest, { room_id: 'r', username: '   ', content: 'x' })).toEqual({ code: 'INVALID_REQUEST', message: 'username must not be empty' });
  });

  it('refuses non-object data', () => {
    expect(refusal(JoinRoomRequest, null)).toEqual({ code: 'INVALID_REQUEST', message: 'Request data must be a JSON object' });
    expect(refusal(JoinRoomRequest, [1])).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('refuses wrong field types and over-long names', () => {
    expect(refusal(JoinRoomRequest, { room_id: 5, username: 'u' }).code).toBe('INVALID_REQUEST');
    expect(refusal(JoinRoomRequest, { room_id: 'r', username: 'u'.repeat(65) }).message).toContain('username');
    expect(refusal(JoinRoomRequest, { room_id: 'r', username: 'u', since_sequence: -1 }).message).toContain('since_sequence');
    expect(refusal(CreateRoomRequest, { room_name: 'n', creator_id: 'c', description: 7 }).message).toContain('description');
    expect(refusal(CreateRoomRequest, { creator_id: 'c' }).message).toBe('Missing room_name or creator_id');
    expect(refusal(GetHistoryRequest, { room_id: 'r', limit: 201 }).message).toContain('limit');
  });

  describe('hostile JSON (found by test/robustness.e2e-spec.ts)', () => {
    const deep = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as unknown;

    it('refuses deeply nested values in a field with the field\'s own error, not a stack overflow', () => {
      expect(refusal(SendMessageRequest, { room_id: 'r', username: deep(20_000), content: 'hi' }).code).toBe('INVALID_REQUEST');
      expect(refusal(SendMessageRequest, { room_id: 'r', username: 'u', content: deep(20_000) })).toEqual({ code: 'INVALID_CONTENT', message: 'Message content must be a string' });
      expect(refusal(GetHistoryRequest, { room_id: 'r', after_sequence: deep(20_000) }).message).toContain('after_sequence');
    });

    it('ignores fields it does not declare, however deep or odd', () => {
      const value = JSON.parse('{"room_id":"r","username":"u","content":"hi","junk":{"constructor":true,"x":[{"constructor":"evil"}]}}') as object;
      expect(run(SendMessageRequest, { ...value, more: deep(20_000) })).toEqual(Object.assign(new SendMessageRequest(), { room_id: 'r', username: 'u', content: 'hi' }));
    });

    it('refuses a field holding an object with a "constructor" key as a wrong type', () => {
      const value = JSON.parse('{"room_id":{"constructor":5},"username":"u"}') as object;
      expect(refusal(JoinRoomRequest, value)).toEqual({ code: 'INVALID_REQUEST', message: 'room_id must be a string of 1-64 characters' });
      expect(refusal(CreateRoomRequest, JSON.parse('{"room_name":"n","creator_id":"c","description":{"constructor":"x"}}')).message).toContain('description');
    });

    it('validates by the DTO\'s rules even when the data has own "constructor" or "__proto__" keys', () => {
      const value = JSON.parse('{"room_id":5,"username":"u","content":"hi","constructor":{},"__proto__":{"room_id":"r"}}') as object;
      expect(refusal(SendMessageRequest, value).message).toBe('room_id must be a string of 1-64 characters');
      const ok = run(SendMessageRequest, JSON.parse('{"room_id":"r","username":"u","content":"hi","__proto__":{"isAdmin":true}}')) as object;
      expect(ok).toBeInstanceOf(SendMessageRequest);
      expect((ok as Record<string, unknown>).isAdmin).toBeUndefined();
    });
  });
});
