import { parentPort, workerData } from 'node:worker_threads';
import type { Mutation } from './params.js';
import { runSeeds, type SeedRange } from './run.js';

const { range, mutation } = workerData as { range: SeedRange; mutation: Mutation | undefined };
// An error here fails the worker, and runSeedsInParallel reports it.
parentPort?.postMessage(await runSeeds(range, mutation));
