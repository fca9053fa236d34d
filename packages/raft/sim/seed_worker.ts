import { parentPort, workerData } from 'node:worker_threads';
import type { Mutation } from './params.js';
import { runSeeds, type SeedRange } from './run.js';

const { range, mutation } = workerData as { range: SeedRange; mutation: Mutation | undefined };
parentPort?.postMessage(runSeeds(range, mutation));
