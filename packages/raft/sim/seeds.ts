import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MUTATIONS, type Mutation } from './params.js';
import { parseSeedRange, replayCommand, runSeeds, type SeedRange } from './run.js';
import type { SimulationResult } from './simulation.js';

export interface SeedRunOptions {
  readonly range: SeedRange;
  readonly mutation?: Mutation;
  readonly workers?: number;
}

export interface SeedRunSummary {
  readonly passed: number;
  readonly failed: readonly SimulationResult[];
  readonly elapsedMs: number;
}

export function parseMutation(text: string | undefined): Mutation | undefined {
  if (text === undefined) return undefined;
  const mutation = MUTATIONS.find((name) => name === text);
  if (mutation === undefined) throw new Error(`--mutation takes one of ${MUTATIONS.join(', ')}, not "${text}"`);
  return mutation;
}

/** Runs a seed range split across worker threads (one per core by default). */
export async function runSeedsInParallel(options: SeedRunOptions): Promise<SeedRunSummary> {
  const started = Date.now();
  const { first, last } = options.range;
  const total = last - first + 1;
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), total));
  const chunks: SeedRange[] = [];
  const size = Math.ceil(total / workers);
  for (let start = first; start <= last; start += size) chunks.push({ first: start, last: Math.min(last, start + size - 1) });
  const results = await Promise.all(chunks.map((chunk) => runChunk(chunk, options.mutation)));
  return {
    passed: results.reduce((sum, result) => sum + result.passed, 0),
    failed: results.flatMap((result) => result.failed).sort((a, b) => a.seed - b.seed),
    elapsedMs: Date.now() - started,
  };
}

function runChunk(range: SeedRange, mutation: Mutation | undefined): Promise<{ passed: number; failed: SimulationResult[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./seed_worker.js', import.meta.url), { workerData: { range, mutation } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`seed worker for ${range.first}-${range.last} exited with ${code}`));
    });
  });
}

/** The report printed by `pnpm raft:sim`: failures with their replay command, then `N passed, M failed`. */
export function formatSummary(summary: SeedRunSummary, mutation: Mutation | undefined): string[] {
  const lines: string[] = [];
  for (const result of summary.failed) {
    lines.push(`seed ${result.seed} FAILED: ${result.failure ?? '?'}`);
    lines.push(`  replay: ${replayCommand(result.seed, mutation)}`);
  }
  lines.push(`(${(summary.elapsedMs / 1000).toFixed(1)}s${mutation ? `, mutation ${mutation}` : ''})`);
  lines.push(`${summary.passed} passed, ${summary.failed.length} failed`);
  return lines;
}

export { parseSeedRange, runSeeds };
