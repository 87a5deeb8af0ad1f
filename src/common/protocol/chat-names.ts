/**
 * The rules for names people see and compare (usernames, room names), shared by the node, the token
 * command and the web client. A name is compared in its NFKC form with surrounding white space
 * removed, so `alice`, `alice ` and full-width `ａｌｉｃｅ` are one name; characters that show nothing
 * or reorder text around them are refused instead of compared, so two names that look alike are
 * never two people. docs/protocol.md, "Names".
 */

/**
 * Characters that print nothing or change how text around them is shown: controls (Cc), format
 * characters (Cf: zero-width space and joiners, bidirectional marks, embeddings and isolates, the
 * soft hyphen, the BOM, tags), line and paragraph separators, surrogates, private-use and
 * unassigned code points, and letters that render as blank space (Hangul fillers, braille blank,
 * the combining grapheme joiner).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\u034F\u115F\u1160\u3164\uFFA0\u2800\u180B-\u180F\uFE00-\uFE0E\u{E0100}-\u{E01EF}]/u;
/** Emoji sequences need these two: a joiner between pictographs, the emoji presentation selector after one. */
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}\uFE0F?)\u200D(?=\p{Extended_Pictographic})/gu;
const EMOJI_SELECTOR = /(?<=\p{Extended_Pictographic})\uFE0F/gu;
const STRAY_SELECTOR = /\uFE0F/u;
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** The form a name is stored and compared in. */
export function normalizeName(name: string): string {
  return name.normalize('NFKC').trim();
}

/** Length in Unicode code points (what Python's len counts), not UTF-16 units. */
export function codePointCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Why `value` cannot be a name of at most `max` characters (checked on its normal form), or null
 * when it can. `what` names the field in the sentence, e.g. "username".
 */
export function nameProblem(value: unknown, max: number, what: string): string | null {
  if (typeof value !== 'string') return `${what} must be text`;
  const name = normalizeName(value);
  if (name === '') return `${what} must not be empty`;
  if (codePointCount(name) > max) return `${what} must be at most ${max} characters`;
  const bidi = BIDI.exec(name);
  if (bidi) return `${what} must not contain bidirectional control characters (${codePoint(bidi[0])} found)`;
  const rest = name.replace(EMOJI_JOINER, '').replace(EMOJI_SELECTOR, '');
  const hidden = INVISIBLE.exec(rest) ?? STRAY_SELECTOR.exec(rest);
  if (hidden) return `${what} must not contain invisible or non-printing characters (${codePoint(hidden[0])} found)`;
  return null;
}

function codePoint(c: string): string {
  return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
