// The system tools some suites drive (Chromium, Prometheus, gcc), found as the pretest step finds them
// (scripts/test-tools.cjs): a suite whose tool is missing is skipped with one line naming what to install.
interface ToolInfo {
  name: string;
  command: string;
  env: string;
  pkg: string;
  neededBy: string;
}
interface TestTools {
  TOOLS: ToolInfo[];
  findTool(name: string, env?: NodeJS.ProcessEnv): string | null;
  advice(missing: ToolInfo[]): string;
  prepare(env: NodeJS.ProcessEnv, log: (line: string) => void, uid?: number): number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS script, shared with the pretest step
export const tools = require('../../scripts/test-tools.cjs') as TestTools;

export type TestTool = 'chromium' | 'prometheus' | 'promtool' | 'gcc';

/** The tool's executable, or null when this machine lacks it. */
export function toolPath(name: TestTool): string | null {
  return tools.findTool(name);
}

/** The tool's executable; throws (with what to install) when it is missing. */
export function requireTool(name: TestTool): string {
  const found = toolPath(name);
  if (!found) throw new Error(tools.advice(tools.TOOLS.filter((t) => t.name === name)));
  return found;
}

/** Whether the tool is here; if not, one line on stderr says what to install (under CI, where every suite must run, it throws). */
function present(name: TestTool): boolean {
  if (toolPath(name)) return true;
  const line = tools.advice(tools.TOOLS.filter((t) => t.name === name));
  if (process.env.CI) throw new Error(`${line} (CI runs every suite)`);
  process.stderr.write(`${line}\n`);
  return false;
}

/** `describe` when the tool is here, else `describe.skip` (after one line saying what to install). */
export const describeWithTool = (name: TestTool): jest.Describe => (present(name) ? describe : describe.skip);

/** `it` when the tool is here, else `it.skip` (after one line saying what to install). */
export const itWithTool = (name: TestTool): jest.It => (present(name) ? it : it.skip);
