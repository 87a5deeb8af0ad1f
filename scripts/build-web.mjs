// Bundles the browser client (web/) into dist/public: index.html, app.js (minified), styles.css,
// and the operators' status page: status.html, status.js, status.css.
// Usage: node scripts/build-web.mjs [--no-typecheck] [--sourcemap]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const out = join(root, 'dist', 'public');
const args = new Set(process.argv.slice(2));

if (!args.has('--no-typecheck')) {
  // Type errors fail the build (esbuild only strips types).
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  try {
    execFileSync(tsc, ['-p', join(web, 'tsconfig.json')], { stdio: 'inherit' });
  } catch {
    console.error('build-web: type check failed');
    process.exit(1);
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// the chat page and the operators' status page: one bundle each, same settings
const script = (entry, file) =>
  build({
    entryPoints: [entry],
    outfile: join(out, file),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome109', 'firefox115', 'safari16'],
    sourcemap: args.has('--sourcemap') ? 'linked' : false,
    legalComments: 'none',
    logLevel: 'warning',
  });
await script(join(web, 'src', 'app', 'main.ts'), 'app.js');
await script(join(web, 'src', 'status', 'main.ts'), 'status.js');
await build({
  entryPoints: [join(web, 'status.css')],
  outfile: join(out, 'status.css'),
  bundle: true,
  minify: true,
  logLevel: 'warning',
});
await build({
  entryPoints: [join(web, 'styles.css')],
  outfile: join(out, 'styles.css'),
  bundle: true,
  minify: true,
  logLevel: 'warning',
});
copyFileSync(join(web, 'favicon.svg'), join(out, 'favicon.svg'));
for (const page of ['index.html', 'status.html']) {
  const html = readFileSync(join(web, page), 'utf8')
    .replace(/\n\s*/g, '\n')
    .replace(/<!--[\s\S]*?-->/g, '');
  writeFileSync(join(out, page), html);
}

let total = 0;
let gz = 0;
const sizes = ['index.html', 'app.js', 'styles.css', 'status.html', 'status.js', 'status.css'].map((f) => {
  const buf = readFileSync(join(out, f));
  const g = gzipSync(buf, { level: 9 }).length;
  total += statSync(join(out, f)).size;
  gz += g;
  return `${f} ${buf.length} B (gzip ${g} B)`;
});
console.log(`build-web: dist/public: ${sizes.join(', ')}; total ${total} B, gzip ${gz} B`);
