// Resource sampling of node processes from /proc (Linux): RSS and CPU time.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const CLK_TCK = 100; // getconf CLK_TCK on Linux x86_64/arm64
const PAGE_KB = 4;

export interface ProcSnapshot {
  at: number; // performance.now() ms
  cpuTicks: number; // utime + stime
  rssKb: number;
}

export function readProc(pid: number): ProcSnapshot | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    const rssKb = m ? Number(m[1]) : Number(fields[21]) * PAGE_KB;
    return { at: performance.now(), cpuTicks, rssKb };
  } catch {
    return undefined;
  }
}

export interface ProcUsage {
  name: string;
  pid: number;
  rss_start_mb: number;
  rss_peak_mb: number;
  rss_end_mb: number;
  cpu_avg_percent: number; // over the measured window, 100 = one core
  cpu_peak_percent: number; // highest over one sampling interval
  cpu_seconds: number;
}

/** Whole-machine CPU ticks from /proc/stat: busy and total, summed over all cores. */
export function readMachineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - v[3] - v[4], total };
  } catch {
    return undefined;
  }
}

/** Samples a set of processes every `intervalMs` between start() and stop(). */
export class ProcSampler {
  private timer?: NodeJS.Timeout;
  private samples = new Map<number, ProcSnapshot[]>();
  private machine0?: { busy: number; total: number };
  /** CPU used on the whole machine during the window by processes not being sampled, 100 = one core. */
  otherCpuPercent = 0;
  machineCpuPercent = 0;

  constructor(
    private readonly procs: { name: string; pid: number }[],
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.machine0 = readMachineTicks();
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    for (const { pid } of this.procs) {
      const s = readProc(pid);
      if (!s) continue;
      let list = this.samples.get(pid);
      if (!list) this.samples.set(pid, (list = []));
      list.push(s);
    }
  }

  stop(): ProcUsage[] {
    if (this.timer) clearInterval(this.timer);
    this.tick();
    const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
    const machine1 = readMachineTicks();
    const usage = this.usage(mb);
    if (this.machine0 && machine1 && machine1.total > this.machine0.total) {
      const cores = (machine1.total - this.machine0.total) / CLK_TCK;
      const wall = usage.length ? (this.samples.get(usage[0].pid)!.at(-1)!.at - this.samples.get(usage[0].pid)![0].at) / 1000 : 0;
      const busyCores = (machine1.busy - this.machine0.busy) / CLK_TCK / (wall || cores);
      const ours = usage.reduce((sum, u) => sum + u.cpu_avg_percent, 0);
      this.machineCpuPercent = Math.round(busyCores * 1000) / 10;
      this.otherCpuPercent = Math.max(0, Math.round((busyCores * 100 - ours) * 10) / 10);
    }
    return usage;
  }

  private usage(mb: (kb: number) => number): ProcUsage[] {
    return this.procs.flatMap(({ name, pid }) => {
      const list = this.samples.get(pid) ?? [];
      if (list.length < 2) return [];
      const first = list[0];
      const last = list[list.length - 1];
      let peakCpu = 0;
      for (let i = 1; i < list.length; i++) {
        const dt = (list[i].at - list[i - 1].at) / 1000;
        if (dt > 0.05) peakCpu = Math.max(peakCpu, (list[i].cpuTicks - list[i - 1].cpuTicks) / CLK_TCK / dt);
      }
      const cpuSeconds = (last.cpuTicks - first.cpuTicks) / CLK_TCK;
      const wall = (last.at - first.at) / 1000;
      return [
        {
          name,
          pid,
          rss_start_mb: mb(first.rssKb),
          rss_peak_mb: mb(Math.max(...list.map((s) => s.rssKb))),
          rss_end_mb: mb(last.rssKb),
          cpu_avg_percent: Math.round((wall > 0 ? cpuSeconds / wall : 0) * 1000) / 10,
          cpu_peak_percent: Math.round(peakCpu * 1000) / 10,
          cpu_seconds: Math.round(cpuSeconds * 100) / 100,
        },
      ];
    });
  }
}

/** Finds the pid listening on a local TCP port (only for nodes we did not start ourselves). */
export function findListeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1].split(':')[1], 16);
      if (localPort === port && cols[3] === '0A') inodes.add(cols[9]); // 0A = LISTEN
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(entry);
      } catch {
        /* fd closed meanwhile */
      }
    }
  }
  return undefined;
}
