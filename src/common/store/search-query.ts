/**
 * A user's search text as an FTS5 query that cannot be a syntax error: every whitespace-separated
 * term becomes a quoted string (FTS5 keywords, column filters, operators and brackets lose their
 * meaning; a `"` inside is doubled), and the terms must all occur (FTS5's implicit AND). A term
 * of letters or digits ending in `*` searches that prefix. Null when nothing searchable is left.
 */
export function toFtsQuery(text: string): string | null {
  const terms = text.normalize('NFKC').split(/\s+/u).filter((t) => /[\p{L}\p{N}]/u.test(t));
  if (terms.length === 0) return null;
  return terms
    .map((t) => {
      const prefix = t.length > 1 && t.endsWith('*') && /[\p{L}\p{N}]$/u.test(t.slice(0, -1));
      const body = prefix ? t.slice(0, -1) : t;
      return `"${body.replace(/"/g, '""')}"${prefix ? ' *' : ''}`;
    })
    .join(' ');
}
