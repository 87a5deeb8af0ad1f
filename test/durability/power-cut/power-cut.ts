import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../../../src/cluster/node-process';
import { eventually, sleep } from '../../support/cluster';
import { requireTool } from '../../support/system-tools';
import type { TestClient } from '../../support/test-client';
import { countStored } from '../node-store';
import type { SeededRandom } from '../seeded-random';

/**
 * The power-cut kit (test/durability/power-cut.e2e-spec.ts): durable-shadow.c built with gcc and
 * preloaded into the nodes, so that beside each DATA_DIR a shadow holds every file as of its last
 * fsync/fdatasync; a cut is kill -9 and then DATA_DIR replaced by that shadow.
 */

/** The run's seed: POWERCUT_SEED replays one, else a fresh one (printed either way). */
export function powerCutSeed(): number {
  const raw = process.env.POWERCUT_SEED;
  const seed = raw ? Number(raw) : 1 + Math.floor(Math.random() * (2 ** 31 - 2));
  if (!Number.isSafeInteger(seed)) throw new Error(`POWERCUT_SEED must be an integer, got ${raw}`);
  console.log(`power-cut seed ${seed} (replay with POWERCUT_SEED=${seed})`);
  return seed;
}

/** Compiles the shim into a new temp directory; returns the library (remove `dir` when done). */
export function buildShim(): { so: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durable-shadow-'));
  const so = path.join(dir, 'durable-shadow.so');
  const source = path.join(__dirname, 'durable-shadow.c');
  const r = spawnSync(requireTool('gcc'), ['-O2', '-Wall', '-shared', '-fPIC', '-o', so, source, '-ldl', '-pthread'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc could not build ${source}: ${r.error?.message ?? ''}${r.stderr}`);
  return { so, dir };
}

/** A node's environment on the shim (libuv told not to sync through io_uring, which would bypass libc). */
export const shimEnv = (so: string): Record<string, string> => ({ LD_PRELOAD: so, UV_USE_IO_URING: '0' });

/** Where the shim keeps a node's durable files (its default beside DATA_DIR). */
export const shadowOf = (node: NodeProcess): string => `${node.env.DATA_DIR}.durable`;

/** The shim's snapshots of `node` so far, by call and file ("fdatasync chat.db-wal" -> count). */
export function snapshots(node: NodeProcess): Record<string, number> {
  const log = `${shadowOf(node)}.log`;
  const counts: Record<string, number> = {};
  if (!fs.existsSync(log)) return counts;
  for (const line of fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
    const [call, file] = line.split(' ');
    counts[`${call} ${file}`] = (counts[`${call} ${file}`] ?? 0) + 1;
  }
  return counts;
}

/** Every file under `dir`, relative to it (the shim's unfinished copies left out). */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile() && !f.includes('.shadow-tmp.')).sort();
}

/** One node's cut: the files it lost whole, and what the database held before and after. */
export interface CutReport {
  node: string;
  /** Files that were never synced (the -shm, at least): gone. */
  dropped: string[];
  live: { entries: number; messages: number };
  durable: { entries: number; messages: number };
}

/** `dataDir` holds only what `shadow` holds (files never synced gone); returns the files it lost whole. */
export function restoreFromShadow(dataDir: string, shadow: string): string[] {
  const kept = filesUnder(shadow);
  const dropped = filesUnder(dataDir).filter((f) => !kept.includes(f));
  for (const entry of fs.readdirSync(dataDir)) fs.rmSync(path.join(dataDir, entry), { recursive: true, force: true });
  for (const f of kept) {
    fs.mkdirSync(path.dirname(path.join(dataDir, f)), { recursive: true });
    fs.copyFileSync(path.join(shadow, f), path.join(dataDir, f));
  }
  return dropped;
}

/**
 * The shim on its own, in a throwaway node process: a row committed with synchronous=FULL, one
 * covered by fs.fdatasync (libuv), one committed after it without a sync, then kill -9. Returns the
 * rows a copy of the directory holds before and after the cut.
 */
export function shimSelfTest(so: string): { live: string[]; durable: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durable-shadow-test-'));
  try {
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    const script = `
      const { DatabaseSync } = require('node:sqlite'); const fs = require('node:fs');
      const db = new DatabaseSync(${JSON.stringify(path.join(data, 'chat.db'))});
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('full')");
      db.exec("PRAGMA synchronous = NORMAL; INSERT INTO t VALUES ('fdatasync')");
      fs.fdatasync(fs.openSync(${JSON.stringify(path.join(data, 'chat.db-wal'))}, 'r'), (e) => {
        if (e) throw e;
        db.exec("INSERT INTO t VALUES ('not synced')");
        process.kill(process.pid, 'SIGKILL');
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...shimEnv(so), DATA_DIR: data }, encoding: 'utf8', timeout: 20_000 });
    if (r.signal !== 'SIGKILL') throw new Error(`the shim's self-test did not end in its kill -9: ${r.status} ${r.signal} ${r.stderr}`);
    const rows = (copy: string) => {
      const db = new DatabaseSync(path.join(copy, 'chat.db'));
      try {
        return (db.prepare('SELECT x FROM t ORDER BY rowid').all() as { x: string }[]).map((row) => row.x);
      } finally {
        db.close();
      }
    };
    fs.cpSync(data, path.join(dir, 'live'), { recursive: true });
    restoreFromShadow(data, `${data}.durable`);
    return { live: rows(path.join(dir, 'live')), durable: rows(data) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let cuts = 0;

/**
 * Cuts the power of `nodes` at once: kill -9 of all, then each DATA_DIR holds only its shadow
 * (files never synced are gone, the others as of their last sync). Both states are kept under
 * `<DATA_DIR>.cut-N/` (live, durable) and counted for the report.
 */
export async function cutPower(nodes: NodeProcess[]): Promise<CutReport[]> {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL'))); // every kill is sent before the first exit is awaited
  const k = ++cuts;
  return nodes.map((n) => {
    const data = n.env.DATA_DIR;
    const record = `${data}.cut-${k}`;
    fs.cpSync(data, path.join(record, 'live'), { recursive: true });
    const dropped = restoreFromShadow(data, shadowOf(n));
    fs.cpSync(data, path.join(record, 'durable'), { recursive: true });
    return { node: n.spec.nodeId, dropped, live: countStored(path.join(record, 'live')), durable: countStored(path.join(record, 'durable')) };
  });
}

export const describeCut = (r: CutReport): string =>
  `${r.node} kept ${r.durable.entries}/${r.live.entries} log entries, ${r.durable.messages}/${r.live.messages} messages (durable/live), lost files: ${r.dropped.join(', ') || 'none'}`;

/**
 * A client sending bursts to one room until stopped or its connection ends: `size` sends at once
 * (each with its own client_message_id), then a pause of `pauseMs`, whether or not the earlier
 * ones were answered: the nodes are busy writing and syncing at any moment the power may go.
 */
export class Burster {
  private running = true;
  private readonly loop: Promise<void>;
  sent = 0;
  private bursts = 0;

  constructor(
    readonly client: TestClient,
    private readonly room: string,
    private readonly username: string,
    private readonly rng: SeededRandom,
    private readonly size: [number, number] = [1, 6],
    private readonly pauseMs: [number, number] = [15, 45],
  ) {
    this.loop = this.run();
  }

  /** Stops sending; resolves once every send was answered (or the connection ended; bounded). */
  stop(): Promise<void> {
    this.running = false;
    return this.loop;
  }

  private burst(): void {
    const n = this.rng.int(...this.size);
    for (let i = 0; i < n; i++) {
      const cmid = `${this.username}-${this.bursts}-${i}`;
      this.client.send('send_message', { room_id: this.room, username: this.username, content: `${cmid} ${'x'.repeat(this.rng.int(0, 300))}`, client_message_id: cmid });
    }
    this.bursts++;
    this.sent += n;
  }

  private async run(): Promise<void> {
    const answered = () => this.client.frames.filter((f) => f.type === 'message_sent' || f.type === 'message_error').length;
    while (this.running && this.client.closeCode === null) {
      this.burst();
      await sleep(this.rng.int(...this.pauseMs));
    }
    await eventually(() => this.client.closeCode !== null || answered() >= this.sent, 20_000, 20).catch(() => undefined);
  }
}
