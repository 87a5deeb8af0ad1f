// Summarises a V8 .cpuprofile: where the time goes (self time by function and by area, and
// inclusive time of the project's own functions).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  total_ms: number;
  idle_ms: number;
  busy_ms: number;
  by_area: { area: string; self_ms: number; percent_of_busy: number }[];
  top_self: { function: string; where: string; self_ms: number; percent_of_busy: number }[];
  top_inclusive_project: { function: string; where: string; total_ms: number; percent_of_busy: number }[];
}

/** Which part of the system a script URL belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: native, JSON, I/O)';
    return '(native/builtin)';
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return 'npm:' + (rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1).replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
  return url;
}

function shortWhere(url: string, line: number): string {
  const area = areaOf(url, '');
  return `${area}:${line + 1}`;
}

export function summariseProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000; // each delta is the time before the *next* sample
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
    total += dt;
  }
  const key = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\u0000${n.callFrame.url}\u0000${n.callFrame.lineNumber}`;
  const fnSelf = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') idle += ms;
    const area = areaOf(n.callFrame.url, n.callFrame.functionName);
    areaSelf.set(area, (areaSelf.get(area) ?? 0) + ms);
    fnSelf.set(key(n), (fnSelf.get(key(n)) ?? 0) + ms);
  }
  // Inclusive time of project functions (compiled from src/): each sample counts once per function.
  const inclusive = new Map<string, number>();
  for (const [id, ms] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (!n.callFrame.url.includes('/dist/') || n.callFrame.url.includes('node_modules')) continue;
      const k = key(n);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  }
  const busy = total - idle;
  const pct = (ms: number) => Math.round((ms / (busy || 1)) * 1000) / 10;
  const r1 = (ms: number) => Math.round(ms * 10) / 10;
  const split = (k: string) => {
    const [fn, url, line] = k.split('\u0000');
    return { function: fn, where: shortWhere(url, Number(line)) };
  };
  return {
    total_ms: r1(total),
    idle_ms: r1(idle),
    busy_ms: r1(busy),
    by_area: [...areaSelf]
      .filter(([a]) => a !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, ms]) => ({ area, self_ms: r1(ms), percent_of_busy: pct(ms) })),
    top_self: [...fnSelf]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ ...split(k), self_ms: r1(ms), percent_of_busy: pct(ms) })),
    top_inclusive_project: [...inclusive]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ ...split(k), total_ms: r1(ms), percent_of_busy: pct(ms) })),
  };
}

export function formatProfileSummary(name: string, s: ProfileSummary): string {
  const lines = [`CPU profile ${name}: ${s.total_ms} ms sampled, busy ${s.busy_ms} ms (idle ${s.idle_ms} ms)`];
  lines.push('  self time by area:');
  for (const a of s.by_area.slice(0, 15)) lines.push(`    ${a.percent_of_busy.toFixed(1).padStart(5)}%  ${a.self_ms.toFixed(0).padStart(7)} ms  ${a.area}`);
  lines.push('  top functions by self time:');
  for (const f of s.top_self.slice(0, 20)) lines.push(`    ${f.percent_of_busy.toFixed(1).padStart(5)}%  ${f.self_ms.toFixed(0).padStart(7)} ms  ${f.function}  ${f.where}`);
  lines.push('  project functions by inclusive time:');
  for (const f of s.top_inclusive_project.slice(0, 20)) lines.push(`    ${f.percent_of_busy.toFixed(1).padStart(5)}%  ${f.total_ms.toFixed(0).padStart(7)} ms  ${f.function}  ${f.where}`);
  return lines.join('\n');
}

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node dist/bench/profile-summary.js FILE.cpuprofile...');
    process.exit(2);
  }
  for (const file of files) {
    console.log(formatProfileSummary(file, summariseProfile(JSON.parse(readFileSync(file, 'utf8')))));
  }
}
