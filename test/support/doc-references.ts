/**
 * What a document names must exist: every CamelCase identifier in inline code or a code block is
 * declared in the repository's code (src/, web/src/, test/, bench/, scripts/) or in the type
 * declarations of a package the project depends on; a `Class.member` appears in the file declaring
 * the class; every file path matches a file or folder of the repository; and a source layout tree
 * (a code block whose first line is `src/`) draws only folders and files that exist.
 * Used by test/architecture.spec.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Words in code blocks that look like identifiers but name products, not code. */
const PROSE_WORDS = new Set(['TypeScript', 'JavaScript', 'NestJS', 'WebSocket', 'GitHub', 'SQLite']);
const CODE_DIRS = ['src', 'web/src', 'test', 'bench', 'scripts'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.data', 'logs', 'test-artifacts']);

const CAMEL = /\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b/g;
const DECLARATION = /\b(?:class|interface|type|enum|function|const|let|var|namespace)\s+([A-Za-z_$][\w$]*)/g;
/** A path-like token: folders and a file name with an extension, or a folder ending in '/'; or a bare file name. */
const PATH_TOKEN =
  /(?<![\w$<>/.-])(?:[\w.-]+\/)+(?:[\w.-]+\.(?:ts|mjs|cjs|js|md|json|sh|yml|yaml|html|css))?(?![\w/*-])|(?<![\w$<>/.-])[\w-]+(?:\.[\w-]+)*\.(?:ts|mjs|cjs|md|sh|yml|yaml)(?![\w*-])/g;
const URL = /\b[a-z][\w+.-]*:\/\/\S*/gi;

export class DocReferences {
  /** Every file ('a/b.ts') and folder ('a/b/') of the repository, relative to its root. */
  private readonly paths: string[];
  /** name -> repository files declaring it. */
  private readonly declaredIn = new Map<string, string[]>();
  private packageNames: Set<string> | null = null;

  constructor(private readonly root: string) {
    this.paths = this.walk(root).map((abs) => path.relative(root, abs).split(path.sep).join('/') + (abs.endsWith('/') ? '/' : ''));
    const code = this.paths.filter((f) => /\.(ts|mjs|cjs|js)$/.test(f) && !f.endsWith('.d.ts') && CODE_DIRS.some((d) => f.startsWith(`${d}/`)));
    for (const file of code) {
      for (const m of this.read(file).matchAll(DECLARATION)) (this.declaredIn.get(m[1]) ?? this.declaredIn.set(m[1], []).get(m[1])!).push(file);
    }
  }

  /** How many names the repository's code declares (a guard against checking against nothing). */
  get declaredNames(): number {
    return this.declaredIn.size;
  }

  /** One line per name or path in `doc` that does not exist, prefixed with the document's path. */
  problems(doc: string): string[] {
    const { inline, blocks, prose } = splitDoc(this.read(doc));
    const problems = new Set<string>();
    for (const name of [...inline, ...blocks].flatMap((c) => c.match(CAMEL) ?? [])) {
      if (!PROSE_WORDS.has(name) && !this.declaredIn.has(name) && !this.declaredByPackages(name)) problems.add(`names ${name}, declared nowhere`);
    }
    for (const p of inline.flatMap((c) => this.memberProblems(c))) problems.add(`names ${p}`);
    for (const p of [...inline, ...blocks, prose].flatMap((c) => c.replace(URL, '').match(PATH_TOKEN) ?? [])) {
      // an extensionless a/b in prose is often two words ("rate/admission"): only tokens rooted in the repository count
      if (!/\.\w+$/.test(p) && !p.endsWith('/') && !this.paths.includes(`${p.split('/')[0]}/`)) continue;
      if (!this.pathExists(p)) problems.add(`names ${p}, no such file or folder`);
    }
    for (const block of blocks.filter((b) => /^src\/\s*$/.test(b.split('\n')[0]))) {
      for (const p of treePaths(block)) if (!fs.existsSync(path.join(this.root, p))) problems.add(`layout draws ${p}, which does not exist`);
    }
    return [...problems].map((p) => `${doc} ${p}`);
  }

  private read(file: string): string {
    return fs.readFileSync(path.join(this.root, file), 'utf8');
  }

  private walk(dir: string, out: string[] = []): string[] {
    if (!fs.existsSync(dir)) return out;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (SKIP_DIRS.has(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        out.push(`${p}/`);
        this.walk(p, out);
      } else out.push(p);
    }
    return out;
  }

  /** A path exists when a repository file or folder is it, or ends with it after a '/'. */
  private pathExists(p: string): boolean {
    const forms = p.endsWith('/') ? [p] : [p, `${p}/`];
    return this.paths.some((f) => forms.some((form) => f === form || f.endsWith(`/${form}`)));
  }

  /** `Class.member` references: the member must appear in a file declaring the class. */
  private memberProblems(code: string): string[] {
    const problems: string[] = [];
    for (const m of code.matchAll(/\b([A-Z][A-Za-z0-9]+)\.([a-z_$][\w$]*)/g)) {
      const files = this.declaredIn.get(m[1]);
      if (!files) continue; // the class itself is reported, or it is a package's
      const member = new RegExp(`\\b${m[2].replace(/\$/g, '\\$')}\\b`);
      if (!files.some((f) => member.test(this.read(f)))) problems.push(`${m[0]}: ${m[2]} is not in ${files.join(', ')}`);
    }
    return problems;
  }

  /** Names declared by the packages package.json lists (their .d.ts files), read once, only when a name is not ours. */
  private declaredByPackages(name: string): boolean {
    if (!this.packageNames) {
      const names = new Set<string>();
      const pkg = JSON.parse(this.read('package.json')) as Record<string, Record<string, string> | undefined>;
      const stack = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
        .map((d) => path.join(this.root, 'node_modules', d))
        .filter((d) => fs.existsSync(d));
      while (stack.length > 0) {
        const dir = stack.pop()!;
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory() && e.name !== 'node_modules') stack.push(p);
          else if (e.name.endsWith('.d.ts')) for (const m of fs.readFileSync(p, 'utf8').matchAll(DECLARATION)) names.add(m[1]);
        }
      }
      this.packageNames = names;
    }
    return this.packageNames.has(name);
  }
}

/** Inline code spans, fenced code blocks, and the prose around them. */
function splitDoc(text: string): { inline: string[]; blocks: string[]; prose: string } {
  const blocks: string[] = [];
  const prose = text.replace(/^```[^\n]*\n([\s\S]*?)^```/gm, (_, body: string) => {
    blocks.push(body);
    return '';
  });
  return { inline: [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]), blocks, prose };
}

/** The paths a layout tree draws: each entry's indentation nests it under the folder above it. */
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
