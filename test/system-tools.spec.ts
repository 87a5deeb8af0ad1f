import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tools } from './support/system-tools';

/**
 * The pretest step (scripts/test-tools.cjs) on machines without the tools, simulated with a PATH
 * of fake executables: it installs them with apt-get as root, and otherwise says in one line what
 * to install and lets the run go on (fails it under CI).
 */
describe('scripts/test-tools.cjs (pretest: the tools the browser, metrics and power-cut tests need)', () => {
  let dir: string;
  let bin: string;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: bin, ...extra });
  const fake = (name: string, script = 'exit 0') => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  /** An apt-get that records its arguments and "installs" the tools by creating them, or fails as told. */
  const fakeAptGet = (installs: boolean) =>
    fake(
      'apt-get',
      `echo "$*" >> ${dir}/apt.log\ncase "$*" in *" install "*) ${installs ? `for t in chromium prometheus promtool gcc; do printf '#!/bin/sh\\n' > ${bin}/$t; /bin/chmod +x ${bin}/$t; done` : 'echo "E: Unable to locate package" >&2; exit 100'};; esac`,
    );
  const aptCalls = () => (fs.existsSync(path.join(dir, 'apt.log')) ? fs.readFileSync(path.join(dir, 'apt.log'), 'utf8').trim().split('\n') : []);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-tools-'));
    bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    lines.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('says nothing and installs nothing when the tools are there', () => {
    ['chromium', 'prometheus', 'promtool', 'gcc'].forEach((t) => fake(t));
    fakeAptGet(true);
    expect(tools.prepare(env(), log, 0)).toBe(0);
    expect(lines).toEqual([]);
    expect(aptCalls()).toEqual([]);
  });

  it('as root with apt-get: installs the missing packages once, quietly, and finds them', () => {
    fakeAptGet(true);
    expect(tools.prepare(env(), log, 0)).toBe(0);
    expect(lines).toEqual(['test tools: installing chromium prometheus gcc libc6-dev with apt-get (needed by some tests; once per machine)']);
    expect(aptCalls()).toEqual([expect.stringMatching(/ install -y -qq --no-install-recommends chromium prometheus gcc libc6-dev$/)]);
    expect(tools.findTool('chromium', env())).toBe(path.join(bin, 'chromium'));
  });

  it('refreshes the package lists once when the first install fails, then says what is missing', () => {
    fakeAptGet(false);
    expect(tools.prepare(env(), log, 0)).toBe(0);
    expect(aptCalls().map((c) => c.split(' ').find((w) => w === 'install' || w === 'update'))).toEqual(['install', 'update', 'install']);
    expect(lines[1]).toMatch(/^test tools: apt-get failed: .*Unable to locate package/);
    expect(lines[2]).toMatch(/Install with: apt-get install -y chromium prometheus gcc libc6-dev$/);
  });

  it('without root: one line naming what to install, exit code 0, no apt-get', () => {
    fake('chromium');
    fakeAptGet(true);
    expect(tools.prepare(env(), log, 1000)).toBe(0);
    expect(lines).toEqual([
      'test tools: prometheus (test/metrics.e2e-spec.ts), promtool (test/deployment/monitoring.e2e-spec.ts), gcc (test/durability/power-cut.e2e-spec.ts) not found, skipped. Install with: apt-get install -y prometheus gcc libc6-dev',
    ]);
    expect(aptCalls()).toEqual([]);
  });

  it('TEST_TOOLS_INSTALL=0 keeps it from installing; under CI a missing tool fails the run', () => {
    fakeAptGet(true);
    expect(tools.prepare(env({ TEST_TOOLS_INSTALL: '0' }), log, 0)).toBe(0);
    expect(aptCalls()).toEqual([]);
    expect(tools.prepare(env({ TEST_TOOLS_INSTALL: '0', CI: 'true' }), log, 0)).toBe(1);
  });

  it('an env override (CHROMIUM_PATH) is the only place it looks for that tool', () => {
    fake('chromium');
    expect(tools.findTool('chromium', env())).toBe(path.join(bin, 'chromium'));
    expect(tools.findTool('chromium', env({ CHROMIUM_PATH: path.join(dir, 'nowhere') }))).toBeNull();
  });

  it('as the pretest command on a machine without the tools or apt-get: one line on stderr, exit code 0', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'test-tools.cjs')], { env: { PATH: bin }, encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr.trim().split('\n') }).toEqual({
      status: 0,
      stdout: '',
      stderr: [expect.stringMatching(/^test tools: chromium .* not found, skipped\. Install with: apt-get install -y chromium prometheus gcc libc6-dev$/)],
    });
  });
});
