import { inferLogFields, isFieldedMessage, logFields } from './log-fields';

describe(inferLogFields.name, () => {
  const peers = new Set(['node2', 'node3']);
  const codes = new Set(['RATE_LIMITED', 'NOT_MEMBER']);
  const room = '3f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f';

  it('finds the room after "room" or "in", a configured peer named as a word, and a known error code', () => {
    expect(inferLogFields(`Could not remove alice from room ${room} at node2: timeout`, peers, codes)).toEqual({ room_id: room, peer: 'node2' });
    expect(inferLogFields(`Message 4 in ${room} is stored on node3 but not here yet`, peers, codes)).toEqual({ room_id: room, peer: 'node3' });
    expect(inferLogFields('send_message refused: NOT_MEMBER You are not a member', peers, codes)).toEqual({ error_code: 'NOT_MEMBER' });
    expect(inferLogFields('Peer node3 marked FAILED after 2 missed heartbeats', peers, codes)).toEqual({ peer: 'node3' });
    expect(inferLogFields(`Room 'lobby' (${room}) created by alice`, peers, codes)).toEqual({ room_id: room });
  });

  it('infers nothing from unrelated words: other ids, unknown codes, node ids inside words', () => {
    expect(inferLogFields(`message ${room} from node22 SOME_CODE`, peers, codes)).toEqual({});
  });
});

describe(logFields.name, () => {
  it('marks a message as carrying fields', () => {
    const m = logFields('x', { peer: 'node2' });
    expect(isFieldedMessage(m)).toBe(true);
    expect(isFieldedMessage({ message: 'x', fields: {} })).toBe(false);
  });
});
