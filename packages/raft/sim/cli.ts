import { parseArgs } from 'node:util';
import { formatSummary, parseMutation, parseSeedRange, runSeedsInParallel } from './seeds.js';
import { replayCommand, runSeed } from './run.js';

const USAGE = `usage: pnpm raft:sim --seeds A-B [--mutation NAME] [--workers N]
       pnpm raft:sim --seed N [--mutation NAME] [--trace]

Runs the deterministic Raft cluster simulator. Each seed draws a cluster and a fault
profile, runs it with safety checked after every event, heals, and checks liveness.
Ends with "N passed, M failed"; a failing seed prints the command that replays it.`;

/** Entry point shared by `pnpm raft:sim` and `k8ts sim raft`. Returns the exit code. */
export async function simulateCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      mutation: { type: 'string' },
      workers: { type: 'string' },
      trace: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const mutation = parseMutation(values.mutation);
  if (values.seed !== undefined) {
    const seed = parseSeedRange(values.seed).first;
    const result = await runSeed(seed, mutation, values.trace ? (line) => console.log(line) : undefined);
    console.log(result.ok ? `seed ${seed} passed` : `seed ${seed} FAILED: ${result.failure ?? '?'}`);
    if (!result.ok && !values.trace) console.log(`  replay with a trace: ${replayCommand(seed, mutation)}`);
    console.log(`stats ${JSON.stringify(result.stats)}`);
    console.log(`${result.ok ? 1 : 0} passed, ${result.ok ? 0 : 1} failed`);
    return result.ok ? 0 : 1;
  }
  if (values.seeds === undefined) {
    console.error(USAGE);
    return 2;
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers > 0)) throw new Error('--workers takes a positive integer');
  const summary = await runSeedsInParallel({
    range: parseSeedRange(values.seeds),
    ...(mutation ? { mutation } : {}),
    ...(workers ? { workers } : {}),
  });
  for (const line of formatSummary(summary, mutation)) console.log(line);
  return summary.failed.length === 0 ? 0 : 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  simulateCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`raft:sim: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(2);
    },
  );
}
