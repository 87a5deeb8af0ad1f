import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SimJob, SimReport } from './run-seeds';

const ROOT = path.resolve(__dirname, '../..');
export const WORKER_BUNDLE = path.join(ROOT, 'dist/sim/sim-worker.js');

/**
 * Jest runs specs in a vm context, where every global lookup (Math, Map, JSON...) goes through the
 * context's interceptors: the simulator ran about seven times slower there than under plain Node.
 * So the specs bundle it with esbuild (a devDependency) and run their schedules in a worker thread.
 */
export function bundleWorker(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a spec needs it
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({ entryPoints: [path.join(__dirname, 'sim-worker.ts')], bundle: true, platform: 'node', target: 'node24', outfile: WORKER_BUNDLE, logLevel: 'warning' });
}

export function runInWorker(job: SimJob): Promise<SimReport> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_BUNDLE, { workerData: job });
    w.once('message', (r: SimReport) => resolve(r));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`simulator worker exited with ${code}`)));
  });
}
