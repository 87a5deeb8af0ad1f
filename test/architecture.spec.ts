/**
 * The house's shape, checked on every `npm test`: no import cycle between folders (of src/ and of
 * web/src/; spec files aside), no forwardRef, no source file over 300 lines (spec files are exempt: a spec may hold
 * many cases of one idea), and module imports that point one way:
 * health, metrics -> rooms -> {members, peers} -> common, and inside a module the folder arrows of
 * INNER_IMPORTS (rooms: client -> routing -> host, replica; failover above them); and the design
 * docs (CHECKED_DOCS) name no class, member or file that does not exist.
 * Imports are read with a regex over import/export-from lines (TypeScript 7's compiler has no JS
 * API); ARCH_ROOT points it at another checkout (e.g. to see it fail on an older tree).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocReferences } from './support/doc-references';

const ROOT = path.resolve(process.env.ARCH_ROOT ?? path.join(__dirname, '..'));
const MAX_LINES = 300;
/** Documents that must name only classes, members and paths that exist (test/support/doc-references.ts). */
const CHECKED_DOCS = ['docs/architecture.md'];
/** Layer of each module under src/modules (and of src/common): a file may import only lower layers, or its own module. */
const LAYERS: Record<string, number> = { common: 0, members: 1, peers: 1, rooms: 2, health: 3, metrics: 3 };

/**
 * The folders inside a module and which of its other folders each may import (a folder may always
 * import itself; files directly in the module's folder, like rooms.module.ts, wire everything).
 * Edit a row to add, remove or re-wire a folder: a folder on disk without a row, or a row without a
 * folder, fails the check too. Rooms: client -> routing -> host, replica; failover above host and replica; all of them -> replication -> consensus (the pure core, which imports nothing).
 */
const INNER_IMPORTS: Record<string, Record<string, readonly string[]>> = {
  'src/modules/rooms': {
    client: ['routing', 'host', 'replica', 'identity', 'replication', 'consensus', 'typing'],
    failover: ['host', 'replica', 'replication', 'consensus'],
    routing: ['host', 'replication'],
    replica: ['host', 'replication'],
    host: ['identity', 'replication'],
    identity: [],
    // typing notices: ephemeral, never in a room's log (replication: only to see a peer's backlog)
    typing: ['replication'],
    // every room's log on this node (RoomLogs and its disk and wire), around the pure core
    replication: ['consensus'],
    consensus: [],
  },
};

interface SourceFile {
  file: string; // relative to ROOT, forward slashes
  text: string;
  imports: string[]; // resolved, relative to ROOT, without extension
}

const rel = (abs: string) => path.relative(ROOT, abs).split(path.sep).join('/');

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative module specifiers of every import/export-from, side-effect import, dynamic import and require. */
function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]);
  return found.filter((s) => s.startsWith('.'));
}

function load(dirs: string[]): SourceFile[] {
  return dirs.flatMap((d) => walk(path.join(ROOT, d))).map((abs) => {
    const text = fs.readFileSync(abs, 'utf8');
    const imports = specifiers(text).map((s) => rel(path.resolve(path.dirname(abs), s)).replace(/\.(ts|js)$/, ''));
    return { file: rel(abs), text, imports };
  });
}

const isSpec = (file: string) => /\.(e2e-)?spec\.ts$/.test(file);
const folderOf = (file: string) => path.posix.dirname(file);

/** Folder-level cycles (strongly connected components of more than one folder), each as a path that closes. */
function folderCycles(files: SourceFile[]): string[] {
  const edges = new Map<string, Set<string>>();
  const known = new Set(files.map((f) => f.file.replace(/\.ts$/, '')));
  for (const f of files) {
    const from = folderOf(f.file);
    for (const target of f.imports) {
      const to = folderOf(known.has(target) ? target : known.has(`${target}/index`) ? `${target}/index` : target);
      if (to !== from) (edges.get(from) ?? edges.set(from, new Set()).get(from)!).add(to);
    }
  }
  // Tarjan's strongly connected components
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return components.map((c) => describeCycle(c, edges));
}

/** One closed path through a component, e.g. "a -> b -> a", so the failure says which imports to look at. */
function describeCycle(component: string[], edges: Map<string, Set<string>>): string {
  const inside = new Set(component);
  const start = [...component].sort()[0];
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of edges.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const pathBack = [v];
        while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0])!);
        return [...pathBack, start].join(' -> ');
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return component.join(', ');
}

/** 'common', a module name under src/modules, or null for other places (main.ts, cluster/, testing/). */
function moduleOf(file: string): string | null {
  if (file.startsWith('src/common/')) return 'common';
  const m = /^src\/modules\/([^/]+)\//.exec(file);
  return m ? m[1] : null;
}

/** The folder of `file` directly under `moduleDir` ('client' for .../rooms/client/dto/x.ts), or null outside it or at its top. */
function innerFolderOf(moduleDir: string, file: string): string | null {
  if (!file.startsWith(`${moduleDir}/`)) return null;
  const rest = file.slice(moduleDir.length + 1).split('/');
  return rest.length > 1 ? rest[0] : null;
}

/** Imports between a module's folders that its INNER_IMPORTS row does not allow, and rows that do not match the folders on disk. */
function innerImportProblems(files: SourceFile[], table = INNER_IMPORTS, root = ROOT): string[] {
  const problems: string[] = [];
  for (const [moduleDir, rows] of Object.entries(table)) {
    const onDisk = fs.existsSync(path.join(root, moduleDir))
      ? fs.readdirSync(path.join(root, moduleDir), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)
      : [];
    for (const folder of onDisk) if (!(folder in rows)) problems.push(`${moduleDir}/${folder} has no row in INNER_IMPORTS`);
    for (const folder of Object.keys(rows)) if (!onDisk.includes(folder)) problems.push(`INNER_IMPORTS names ${moduleDir}/${folder}, which does not exist`);
    for (const f of files) {
      const from = innerFolderOf(moduleDir, f.file);
      if (from === null) continue;
      for (const target of f.imports) {
        const to = innerFolderOf(moduleDir, `${target}.ts`);
        if (to === null || to === from || rows[from]?.includes(to)) continue;
        problems.push(`${f.file} imports ${target} (${from} -> ${to})`);
      }
    }
  }
  return problems;
}

describe('architecture', () => {
  const src = load(['src']);
  const web = load(['web/src']);

  it('finds the sources it checks', () => {
    expect(src.length).toBeGreaterThan(50);
    expect(web.length).toBeGreaterThan(5);
  });

  // specs are left out of the folder graph: they wire fakes from src/testing into the code they test
  it('has no import cycle between folders of src/ (spec files aside)', () => {
    expect(folderCycles(src.filter((f) => !isSpec(f.file)))).toEqual([]);
  });

  it('has no import cycle between folders of web/src/', () => {
    expect(folderCycles(web.filter((f) => !isSpec(f.file)))).toEqual([]);
  });

  it('uses no forwardRef in src/', () => {
    expect(src.filter((f) => /\bforwardRef\b/.test(f.text)).map((f) => f.file)).toEqual([]);
  });

  it(`has no source file over ${MAX_LINES} lines in src/ or web/src/ (spec files exempt)`, () => {
    const long = [...src, ...web]
      .filter((f) => !isSpec(f.file))
      .map((f) => ({ file: f.file, lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0) }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file} (${f.lines} lines)`);
    expect(long).toEqual([]);
  });

  it('imports modules one way: health, metrics -> rooms -> {members, peers} -> common', () => {
    const wrong: string[] = [];
    for (const f of src) {
      const from = moduleOf(f.file);
      if (from === null) continue;
      for (const target of f.imports) {
        const to = moduleOf(`${target}.ts`);
        if (to === null || to === from) continue;
        if (!(to in LAYERS) || !(from in LAYERS) || LAYERS[to] >= LAYERS[from]) wrong.push(`${f.file} imports ${target} (${from} -> ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('imports between the folders of a module only as INNER_IMPORTS allows (rooms: client -> routing -> host, replica; failover above)', () => {
    expect(innerImportProblems(src)).toEqual([]);
  });

  describe('docs name only what exists', () => {
    const refs = new DocReferences(ROOT);

    it('reads the code it checks the docs against', () => {
      expect(refs.declaredNames).toBeGreaterThan(200);
    });

    it.each(CHECKED_DOCS)('%s: every class, Class.member and path it names exists', (doc) => {
      expect(refs.problems(doc)).toEqual([]);
    });
  });
});
