// The system tools some test suites drive (Debian packages), found the same way by `npm test`'s
// pretest step (this file, run with node) and by the suites (test/support/system-tools.ts).
// Pretest: all present -> silent. Missing, as root with apt-get -> installs them, quietly, once per
// machine. Otherwise one line naming what to install; the suites that need a missing tool skip.
// Under CI (CI set) a tool that could not be installed fails the run: CI must run every suite.
// TEST_TOOLS_INSTALL=0 turns the installing off (the suites then skip).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Each tool: its command, the env variable that may point at it, its Debian package, and what needs it. */
const TOOLS = [
  { name: 'chromium', command: 'chromium', env: 'CHROMIUM_PATH', pkg: 'chromium', neededBy: 'test/web/*.e2e-spec.ts' },
  { name: 'prometheus', command: 'prometheus', env: 'PROMETHEUS_PATH', pkg: 'prometheus', neededBy: 'test/metrics.e2e-spec.ts' },
  { name: 'promtool', command: 'promtool', env: 'PROMTOOL_PATH', pkg: 'prometheus', neededBy: 'test/deployment/monitoring.e2e-spec.ts' },
  // libc6-dev: the C headers, only a recommendation of gcc (the install skips recommendations)
  { name: 'gcc', command: 'gcc', env: 'GCC_PATH', pkg: 'gcc libc6-dev', neededBy: 'test/durability/power-cut.e2e-spec.ts' },
];

/** The Debian packages of `tools`, each once (a tool's `pkg` may name several, space-separated). */
const packagesOf = (tools) => [...new Set(tools.flatMap((t) => t.pkg.split(' ')))];

const isExecutable = (file) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** The first executable `command` on PATH, or null. */
function onPath(command, env = process.env) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, command))) return path.join(dir, command);
  }
  return null;
}

/** Where the tool is: its env variable's file if set (and nothing else then), else the first on PATH; null when absent. */
function findTool(name, env = process.env) {
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) throw new Error(`unknown test tool ${name}`);
  if (env[tool.env]) return isExecutable(env[tool.env]) ? env[tool.env] : null;
  return onPath(tool.command, env);
}

/** The one line that says what is missing and how to get it. */
function advice(missing) {
  const pkgs = packagesOf(missing);
  const what = missing.map((t) => `${t.name} (${t.neededBy})`).join(', ');
  return `test tools: ${what} not found, skipped. Install with: apt-get install -y ${pkgs.join(' ')}`;
}

/** apt-get install, refreshing the package lists once if the first try fails (a fresh machine has none). */
function aptInstall(aptGet, pkgs, env) {
  const run = (args) => spawnSync(aptGet, args, { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8' });
  const install = ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs];
  let r = run(install);
  if (r.status !== 0) {
    run(['-o', 'DPkg::Lock::Timeout=120', 'update', '-qq']);
    r = run(install);
  }
  return r.status === 0 ? null : `${r.error?.message ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ');
}

/** The pretest step; returns the exit code. `log` gets at most a few lines. */
function prepare(env = process.env, log = (line) => process.stderr.write(`${line}\n`), uid = process.getuid?.()) {
  let missing = TOOLS.filter((t) => findTool(t.name, env) === null);
  if (missing.length === 0) return 0;
  const aptGet = onPath('apt-get', env);
  if (uid === 0 && aptGet && env.TEST_TOOLS_INSTALL !== '0') {
    const pkgs = packagesOf(missing);
    log(`test tools: installing ${pkgs.join(' ')} with apt-get (needed by some tests; once per machine)`);
    const failure = aptInstall(aptGet, pkgs, env);
    if (failure) log(`test tools: apt-get failed: ${failure}`);
    missing = TOOLS.filter((t) => findTool(t.name, env) === null);
    if (missing.length === 0) return 0;
  }
  log(advice(missing));
  return env.CI ? 1 : 0;
}

module.exports = { TOOLS, findTool, advice, prepare };

if (require.main === module) process.exitCode = prepare();
