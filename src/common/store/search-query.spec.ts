import { DatabaseSync } from 'node:sqlite';
import { toFtsQuery } from './search-query';

describe('toFtsQuery', () => {
  it('quotes every term so FTS5 operators, columns and brackets are plain words', () => {
    expect(toFtsQuery('hello world')).toBe('"hello" "world"');
    expect(toFtsQuery('a AND b OR NOT c')).toBe('"a" "AND" "b" "OR" "NOT" "c"');
    expect(toFtsQuery('content:x (y) "z')).toBe('"content:x" "(y)" """z"');
  });

  it('keeps a trailing * as a prefix search of a word, drops terms without letters or digits, NFKC-normalises', () => {
    expect(toFtsQuery('hel*')).toBe('"hel" *');
    expect(toFtsQuery('* -- ... hi')).toBe('"hi"');
    expect(toFtsQuery('ｈｉ')).toBe('"hi"');
    expect(toFtsQuery('  ... ** ')).toBeNull();
  });

  it('never gives FTS5 a syntax error, whatever the user types', () => {
    const db = new DatabaseSync(':memory:');
    db.exec("CREATE VIRTUAL TABLE t USING fts5(content); INSERT INTO t (content) VALUES ('the quick brown fox'), ('a \"quoted\" word')");
    const search = db.prepare('SELECT count(*) AS n FROM t WHERE t MATCH ?');
    const nasty = ['AND', 'NOT fox', 'fox OR', '"', '""', 'NEAR(a b', 'content:fox', '^fox', 'fox*', 'a+b', '{content}: x', '\u0000', 'quick* brown', 'qu"ot*', "o'neil"];
    for (const text of nasty) {
      const q = toFtsQuery(text);
      if (q !== null) expect(() => search.get(q)).not.toThrow();
    }
    expect(search.get(toFtsQuery('quick* FOX')!)).toEqual({ n: 1 });
    expect(search.get(toFtsQuery('"quoted"')!)).toEqual({ n: 1 });
    db.close();
  });
});
