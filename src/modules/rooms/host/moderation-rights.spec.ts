import { banRefusal, moderationRefusal, muteRefusal, type ModerationRoles } from './moderation-rights';

describe('moderationRefusal: who may moderate whom', () => {
  const roles: ModerationRoles = { creatorId: 'alice', isModerator: (u) => u === 'mod' || u === 'mod2' };
  const code = (action: Parameters<typeof moderationRefusal>[0], actor: string, member: string) => moderationRefusal(action, actor, member, roles)?.code ?? null;

  it('lets only the creator appoint moderators (not themselves)', () => {
    expect(code('add_moderator', 'alice', 'bob')).toBeNull();
    expect(code('add_moderator', 'mod', 'bob')).toBe('NOT_MODERATOR');
    expect(code('add_moderator', 'bob', 'bob')).toBe('NOT_MODERATOR');
    expect(code('add_moderator', 'alice', 'alice')).toBe('INVALID_REQUEST');
  });

  it('lets the creator and moderators kick, ban, unban and mute members; refuses everyone else', () => {
    for (const action of ['kick', 'ban', 'unban', 'mute'] as const) {
      expect(code(action, 'alice', 'bob')).toBeNull();
      expect(code(action, 'mod', 'bob')).toBeNull();
      expect(code(action, 'carol', 'bob')).toBe('NOT_MODERATOR');
    }
  });

  it('refuses every action in a direct room (INVALID_STATE), to the creator too', () => {
    const direct: ModerationRoles = { ...roles, direct: true };
    for (const action of ['add_moderator', 'kick', 'ban', 'unban', 'mute'] as const) {
      expect(moderationRefusal(action, 'alice', 'bob', direct)?.code).toBe('INVALID_STATE');
    }
  });

  it('lets nobody act on the creator or on themselves', () => {
    for (const action of ['kick', 'ban', 'unban', 'mute'] as const) {
      expect(code(action, 'mod', 'alice')).toBe('NOT_MODERATOR');
      expect(code(action, 'mod', 'mod')).toBe('INVALID_REQUEST');
    }
  });

  it('lets only the creator kick, ban or mute a moderator (any moderator may unban one)', () => {
    for (const action of ['kick', 'ban', 'mute'] as const) {
      expect(code(action, 'mod', 'mod2')).toBe('NOT_MODERATOR');
      expect(code(action, 'alice', 'mod2')).toBeNull();
    }
    expect(code('unban', 'mod', 'mod2')).toBeNull();
  });
});

describe('muteRefusal and banRefusal', () => {
  const now = Date.parse('2026-01-01T00:00:10.000Z');

  it('refuses until the expiry has passed, saying when', () => {
    expect(muteRefusal(null, now)).toBeNull();
    expect(muteRefusal('2026-01-01T00:00:10.000Z', now)).toBeNull();
    expect(muteRefusal('2026-01-01T00:00:12.500Z', now)).toMatchObject({ code: 'MUTED', details: { muted_until: '2026-01-01T00:00:12.500Z', retry_after_ms: 2500 } });
  });

  it('refuses a banned name only', () => {
    expect(banRefusal(false)).toBeNull();
    expect(banRefusal(true)?.code).toBe('BANNED');
  });
});
