/**
 * The docs name only what exists: every CamelCase identifier in inline code or a code block must be
 * declared in the repository's code (src/, web/src/, test/, bench/, scripts/) or in the type
 * declarations of a package the project depends on, a `Class.member` must appear in the file
 * declaring the class, every file path must match a file or folder of the repository, and a source
 * layout tree (a code block starting with `src/`) must match the folders it draws.
 * DOCS_ROOT points it at another checkout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(process.env.DOCS_ROOT ?? path.join(__dirname, '..'));
/** The documents checked. */
const DOCS = ['docs/architecture.md'];
/** Words in code blocks that look like identifiers but name products, not code. */
const PROSE_WORDS = new Set(['TypeScript', 'JavaScript', 'NestJS', 'WebSocket', 'GitHub', 'SQLite']);
const CODE_DIRS = ['src', 'web/src', 'test', 'bench', 'scripts'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.data', 'logs', 'test-artifacts']);

const CAMEL = /\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b/g;
/** A path-like token: folders and a file name with an extension, or a folder ending in '/'. */
const PATH_TOKEN = /(?<![\w$<>/.-])(?:[\w.-]+\/)+(?:[\w.-]+\.(?:ts|mjs|cjs|js|md|json|sh|yml|yaml|html|css))?(?![\w/*-])|(?<![\w$<>/.-])[\w-]+(?:\.[\w-]+)*\.(?:ts|mjs|cjs|md|sh|yml|yaml)(?![\w*-])/g;

function walk(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      out.push(`${p}/`);
      walk(p, out);
    } else out.push(p);
  }
  return out;
}

const relative = (abs: string) => path.relative(ROOT, abs).split(path.sep).join('/') + (abs.endsWith('/') ? '/' : '');
const repoPaths = walk(ROOT).map(relative);
const isCode = (f: string) => /\.(ts|mjs|cjs|js)$/.test(f) && !f.endsWith('.d.ts');
const DECLARATION = /\b(?:class|interface|type|enum|function|const|let|var|namespace)\s+([A-Za-z_$][\w$]*)/g;

/** name -> files declaring it, over the repository's own code. */
const declaredIn = new Map<string, string[]>();
for (const file of repoPaths.filter((f) => isCode(f) && CODE_DIRS.some((d) => f.startsWith(`${d}/`)))) {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  for (const m of text.matchAll(DECLARATION)) (declaredIn.get(m[1]) ?? declaredIn.set(m[1], []).get(m[1])!).push(file);
}

/** Names declared by the packages package.json lists (their .d.ts files), read only when a name is not ours. */
let packageNames: Set<string> | null = null;
function declaredByPackages(name: string): boolean {
  if (!packageNames) {
    packageNames = new Set();
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    const dirs = deps.map((d) => path.join(ROOT, 'node_modules', d));
    const stack = dirs.filter((d) => fs.existsSync(d));
    while (stack.length > 0) {
      const dir = stack.pop()!;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && e.name !== 'node_modules') stack.push(p);
        else if (e.name.endsWith('.d.ts')) for (const m of fs.readFileSync(p, 'utf8').matchAll(DECLARATION)) packageNames.add(m[1]);
      }
    }
  }
  return packageNames.has(name);
}

interface DocCode {
  inline: string[];
  blocks: string[];
  prose: string;
}

function splitDoc(text: string): DocCode {
  const blocks: string[] = [];
  const prose = text.replace(/^```[^\n]*\n([\s\S]*?)^```/gm, (_, body: string) => {
    blocks.push(body);
    return '';
  });
  const inline = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
  return { inline, blocks, prose };
}

/** `Class.member` references in inline code: the member must appear in a file declaring the class. */
function memberProblems(code: string): string[] {
  const problems: string[] = [];
  for (const m of code.matchAll(/\b([A-Z][A-Za-z0-9]+)\.([a-z_$][\w$]*)/g)) {
    const files = declaredIn.get(m[1]);
    if (!files) continue; // the class itself is reported, or it is a package's
    const member = new RegExp(`\\b${m[2].replace(/\$/g, '\\$')}\\b`);
    if (!files.some((f) => member.test(fs.readFileSync(path.join(ROOT, f), 'utf8')))) problems.push(`${m[0]}: ${m[2]} is not in ${files.join(', ')}`);
  }
  return problems;
}

/** A path exists when a repository file or folder is it, or ends with it after a '/'. */
const pathExists = (p: string) => repoPaths.some((f) => f === p || f.endsWith(`/${p}`) || (!p.endsWith('/') && (f === `${p}/` || f.endsWith(`/${p}/`))));

/** The paths a layout tree draws: each entry's indentation nests it under the folder above. */
function treePaths(block: string): string[] {
  const paths: string[] = [];
  const stack: { indent: number; dir: string }[] = [];
  for (const line of block.split('\n')) {
    const m = /^( *)([\w.-]+(?:\/[\w.-]+)*\/?)(?: {2,}|$)/.exec(line);
    if (!m || m[1].length > 16) continue; // a description's continuation line
    const indent = m[1].length;
    while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
    const full = (stack.length > 0 ? stack[stack.length - 1].dir : '') + m[2];
    paths.push(full);
    if (full.endsWith('/')) stack.push({ indent, dir: full });
  }
  return paths;
}

function docProblems(doc: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
  const { inline, blocks, prose } = splitDoc(text);
  const problems = new Set<string>();
  for (const name of [...inline, ...blocks].flatMap((c) => c.match(CAMEL) ?? [])) {
    if (PROSE_WORDS.has(name) || declaredIn.has(name) || declaredByPackages(name)) continue;
    problems.add(`names ${name}, declared nowhere`);
  }
  for (const p of inline.flatMap(memberProblems)) problems.add(`names ${p}`);
  const withoutUrls = (c: string) => c.replace(/\b[a-z][\w+.-]*:\/\/\S*/gi, '');
  const pathTokens = [...inline, ...blocks, prose].flatMap((c) => withoutUrls(c).match(PATH_TOKEN) ?? []);
  for (const p of pathTokens) {
    // an extensionless a/b in prose is often two words ("rate/admission"): only tokens rooted in the repository count
    if (!/\.\w+$/.test(p) && !p.endsWith('/') && !repoPaths.includes(`${p.split('/')[0]}/`)) continue;
    if (!pathExists(p)) problems.add(`names ${p}, no such file or folder`);
  }
  for (const block of blocks.filter((b) => /^src\/\s*$/m.test(b.split('\n')[0]))) {
    for (const p of treePaths(block)) if (!fs.existsSync(path.join(ROOT, p))) problems.add(`layout draws ${p}, which does not exist`);
  }
  return [...problems].map((p) => `${doc} ${p}`);
}

describe('docs name only what exists', () => {
  it('finds the code it checks against', () => {
    expect(declaredIn.size).toBeGreaterThan(200);
    expect(declaredIn.has('PeerDirectory')).toBe(true);
  });

  it.each(DOCS)('%s', (doc) => {
    expect(docProblems(doc)).toEqual([]);
  });
});
