/**
 * What users read stays readable: the README's configuration table is one table listing every
 * variable .env.example sets, the npm scripts the README shows exist, and no internal work label
 * ("(issue 12)") reaches the README, docs/, deployment/ docs and env files, or the web client's README.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const README = read('README.md');

/** The lines of a `## title` section, up to the next `## ` heading. */
function section(text: string, title: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l === `## ${title}`);
  if (start < 0) throw new Error(`no "## ${title}" section`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

const envVariables = (file: string) => [...read(file).matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);

describe('what users read', () => {
  const config = section(README, 'Configuration');
  const rows = config.filter((l) => l.startsWith('|'));

  it('README: the configuration is one table (no blank line or text between its rows)', () => {
    const first = config.findIndex((l) => l.startsWith('|'));
    const last = config.findLastIndex((l) => l.startsWith('|'));
    const breaks = config
      .map((line, i) => ({ line, i }))
      .filter(({ line, i }) => i > first && i < last && !line.startsWith('|'))
      .map(({ line, i }) => `Configuration line ${i + 1} splits the table: ${JSON.stringify(line)}`);
    expect(breaks).toEqual([]);
  });

  it('README: the table groups its variables under named topics, and lists every variable of .env.example', () => {
    const documented = new Set(rows.flatMap((r) => [...(r.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])));
    expect(envVariables('.env.example').filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !envVariables('.env.example').includes(v))).toEqual([]);
    expect(rows[2]).toMatch(/^\| \*\*[^*]+\*\*/); // a group row opens the table body
  });

  it('README: every npm script it shows exists', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const shown = [...README.matchAll(/\bnpm (?:run (?:--silent )?([\w:-]+)|(start|test)\b)/g)].map((m) => m[1] ?? m[2]);
    expect(shown.length).toBeGreaterThan(4);
    expect(shown.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it('carries no internal work labels such as "(issue 12)"', () => {
    const files = [
      'README.md',
      'web/README.md',
      '.env.example',
      ...['docs', 'deployment', 'deployment/docs'].flatMap((d) =>
        fs.readdirSync(path.join(ROOT, d)).filter((f) => /\.(md|ya?ml)$|^\.env\.example$/.test(f)).map((f) => `${d}/${f}`),
      ),
    ];
    expect(files.length).toBeGreaterThan(8);
    const labelled = files.flatMap((f) =>
      read(f)
        .split('\n')
        .map((line, i) => ({ at: `${f}:${i + 1}`, line }))
        .filter(({ line }) => /\bissues? #?\d+/i.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    expect(labelled).toEqual([]);
  });
});
