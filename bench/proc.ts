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

/** Samples a set of processes every `intervalMs` between start() and stop(). */
export class ProcSampler {
  private timer?: NodeJS.Timeout;
  private samples = new Map<number, ProcSnapshot[]>();

  constructor(
    private readonly procs: { name: string; pid: number }[],
    private readonly intervalMs = 250,
  ) {}

  start(): void {
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
