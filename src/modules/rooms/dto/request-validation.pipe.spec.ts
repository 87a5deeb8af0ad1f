import { ChatError } from '../../../common/errors/chat-error';
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
});
