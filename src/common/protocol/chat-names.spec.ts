import { nameProblem, normalizeName } from './chat-names';

describe('chat names', () => {
  it.each([
    ['alice', 'alice'],
    ['  alice ', 'alice'],
    ['ａｌｉｃｅ', 'alice'], // full width
    ['ℌ𝔢𝔩𝔩𝔬', 'Hello'], // mathematical letters
    ['alice\u00A0bob', 'alice bob'], // no-break space
    ['e\u0301', 'é'], // composed
  ])('compares %j as %j', (raw, normal) => {
    expect(normalizeName(raw)).toBe(normal);
    expect(nameProblem(raw, 64, 'username')).toBeNull();
  });

  it.each([
    ['a\u200Bb', 'invisible', 'U+200B'], // zero-width space
    ['a\u200Db', 'invisible', 'U+200D'], // zero-width joiner between letters
    ['a\u2060b', 'invisible', 'U+2060'], // word joiner
    ['ali\uFEFFce', 'invisible', 'U+FEFF'], // BOM inside (trim drops one at either end)
    ['ali\u00ADce', 'invisible', 'U+00AD'], // soft hyphen
    ['\u3164', 'invisible', 'U+1160'], // Hangul filler (NFKC turns it into U+1160, also blank)
    ['\u2800', 'invisible', 'U+2800'], // braille blank
    ['alice\u{E0061}', 'invisible', 'U+E0061'], // tag character
    ['alice\uFE0F', 'invisible', 'U+FE0F'], // a selector after a letter
    ['a\tb', 'invisible', 'U+0009'],
    ['a\u2028b', 'invisible', 'U+2028'], // line separator
    ['\uE000', 'invisible', 'U+E000'], // private use
    ['a\u202Eb', 'bidirectional', 'U+202E'], // right-to-left override
    ['a\u2067b', 'bidirectional', 'U+2067'], // right-to-left isolate
    ['a\u200Fb', 'bidirectional', 'U+200F'], // right-to-left mark
    ['a\u061Cb', 'bidirectional', 'U+061C'], // Arabic letter mark
  ])('refuses %j, naming the character', (raw, kind, cp) => {
    expect(nameProblem(raw, 64, 'username')).toBe(`username must not contain ${kind === 'bidirectional' ? 'bidirectional control' : 'invisible or non-printing'} characters (${cp} found)`);
  });

  it('keeps emoji sequences whole: a joiner between pictographs and the emoji presentation selector after one', () => {
    for (const name of ['👨‍👩‍👧', '❤️', '🏳️‍🌈', 'team ❤️ chat']) expect(nameProblem(name, 64, 'room_name')).toBeNull();
  });

  it('refuses empty, blank and over-long names and non-text, on the normal form', () => {
    expect(nameProblem('   ', 64, 'username')).toBe('username must not be empty');
    expect(nameProblem('x'.repeat(65), 64, 'username')).toBe('username must be at most 64 characters');
    expect(nameProblem(`${'x'.repeat(64)}  `, 64, 'username')).toBeNull();
    expect(nameProblem('ﷺ'.repeat(4), 64, 'username')).toBe('username must be at most 64 characters'); // 4 characters, 72 once normalised
    expect(nameProblem(42, 64, 'username')).toBe('username must be text');
  });

  it('accepts the names people use', () => {
    for (const name of ['alice', 'Bob Smith', 'Zoë', '日本語', 'Ωμέγα', 'مرحبا', 'user_42', 'o\'brien']) expect(nameProblem(name, 64, 'username')).toBeNull();
  });
});
