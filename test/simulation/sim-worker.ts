import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type SimJob } from './run-seeds';

/** Runs one job outside Jest's sandbox, where the simulator is several times faster (see in-worker.ts). */
parentPort!.postMessage(runJob(workerData as SimJob));
