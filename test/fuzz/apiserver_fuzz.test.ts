import type { ChildProcess } from 'node:child_process';
import { ApiServerSubject, formatFailures, fuzzSeed, parseSeeds, type SeedRun } from '@k8ts/fuzz';
import { ApiServerProcess, TestCluster, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * Fuzzes a running apiserver's REST API (over one k8ts-store member) with hostile and malformed
 * raw HTTP requests (see @k8ts/fuzz's ApiServerSubject): every verb and patch type over core and
 * apps resources and their subresources. Each answer must come in time and, when it is an error,
 * be kube's JSON Status with its code and never a 500; a request that failed must leave the
 * collection it addressed and the store's revision unchanged; the process must stay up and
 * answer /healthz.
 *
 * Seeds: FUZZ_SEEDS (default: seeds 1-20); a failure prints its seed and the command that replays
 * it. More seeds outside the suite (1-300 ran clean once the bugs it found were fixed):
 *   FUZZ_SEEDS=1-300 pnpm exec vitest run test/fuzz/apiserver_fuzz.test.ts
 */
const SEED_LIST = process.env['FUZZ_SEEDS'] ?? '1-20';
const SEEDS = parseSeeds(SEED_LIST);
const CASES_PER_SEED = 40;
const rerun = (seed: number): string => `FUZZ_SEEDS=${seed} pnpm exec vitest run test/fuzz/apiserver_fuzz.test.ts`;

let store: TestCluster | undefined;
let api: ApiServerProcess | undefined;
let subject: ApiServerSubject | undefined;

function exitOf(server: ApiServerProcess): string | undefined {
  // ApiServerProcess keeps its child private; the fuzzer only needs to see whether it exited.
  const child = (server as unknown as { process: ChildProcess | undefined }).process;
  if (child === undefined) return 'not running';
  if (child.exitCode === null && child.signalCode === null) return undefined;
  return `exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`;
}

beforeAll(async () => {
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  const server = await ApiServerProcess.start(store.endpoints);
  api = server;
  subject = new ApiServerSubject({ url: server.url, processExit: () => exitOf(server) });
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await store?.stop();
}, 30_000);

describe("fuzzing the apiserver's REST API", () => {
  test(`seeds ${SEED_LIST} (${SEEDS.length}): well-formed answers, the process up, nothing half-written`, async () => {
    if (subject === undefined || api === undefined) throw new Error('not started');
    const runs: SeedRun[] = [];
    for (const seed of SEEDS) {
      await subject.prepare(seed);
      const run = await fuzzSeed(subject, seed, CASES_PER_SEED);
      runs.push(run);
      if (run.processDown) break;
    }
    const failures = runs.flatMap((run) => run.failures);
    const report = failures.length === 0 ? '' : `${formatFailures(failures, rerun)}\n\napiserver log:\n${api.log.slice(-4000)}`;
    expect(report).toBe('');
    // Every case was sent, and the apiserver refused some and served others.
    const answers = runs.flatMap((run) => run.answers);
    expect(answers).toHaveLength(SEEDS.length * CASES_PER_SEED);
    expect(answers.some((answer) => answer.succeeded)).toBe(true);
    expect(answers.some((answer) => !answer.succeeded)).toBe(true);
  }, 40_000 + SEEDS.length * 10_000);
});
