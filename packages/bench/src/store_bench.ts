import type { Logger } from 'pino';
import { BenchCluster, checkBinary, stopClustersOnSignal } from './clusters.js';
import { captureConditions } from './conditions.js';
import { checkOptions, TEST_NAMES, type StoreBenchOptions } from './options.js';
import { computeRatios } from './report.js';
import type { StoreBenchReport, SuiteReport, WarmupReport } from './results.js';
import { runSuite, SuiteSession } from './suite.js';

export type StoreBenchMode =
  | { readonly kind: 'endpoints'; readonly endpoints: readonly string[] }
  | { readonly kind: 'vs-etcd'; readonly members: number };

/**
 * The whole store benchmark: the suite on the given endpoints, or (vs-etcd) on a fresh k8ts-store
 * cluster and a fresh etcd cluster of the same size, interleaved, with the ratio k8ts/etcd per test
 * and round.
 */
export async function runStoreBench(mode: StoreBenchMode, options: StoreBenchOptions, logger: Logger): Promise<StoreBenchReport> {
  checkOptions(options);
  const conditions = captureConditions(options, new Date());
  if (mode.kind === 'endpoints') {
    return { conditions, runs: [await runSuite({ kind: 'endpoints', endpoints: mode.endpoints }, options, logger)] };
  }
  const [k8ts, etcd] = await runVsEtcd(mode.members, options, logger);
  return { conditions, runs: [k8ts, etcd], ratios: computeRatios(k8ts, etcd) };
}

/** One cluster's side of a --vs-etcd run. */
interface Side {
  readonly cluster: BenchCluster;
  session?: SuiteSession;
  warmup?: WarmupReport;
  failure?: string;
}

/**
 * Both clusters run for the whole benchmark, each warmed up, and every round runs each test on one
 * and then on the other before the next test, the first of the two alternating between rounds
 * (k8ts first in odd rounds, etcd first in even ones). On these shared machines throughput swings by
 * a third within minutes; run all of one target and then all of the other, and a single ratio
 * compared two different machines. While one cluster is measured the other idles (its heartbeats
 * show in the report as other processes' CPU).
 */
async function runVsEtcd(members: number, options: StoreBenchOptions, logger: Logger): Promise<[SuiteReport, SuiteReport]> {
  checkBinary('k8ts');
  checkBinary('etcd');
  const sides: Side[] = [];
  const removeSignalHandlers = stopClustersOnSignal(() => sides.map((side) => side.cluster), logger);
  const attempt = async (side: Side, work: () => Promise<void>): Promise<void> => {
    if (side.failure !== undefined) return;
    try {
      await work();
    } catch (error) {
      side.failure = `the run failed: ${error instanceof Error ? error.message : String(error)}`;
      logger.error({ kind: side.cluster.kind, problem: side.failure }, 'run failed');
    }
  };
  try {
    for (const kind of ['k8ts', 'etcd'] as const) sides.push({ cluster: await BenchCluster.start(kind, members, logger) });
    for (const side of sides) {
      await attempt(side, async () => {
        side.session = await SuiteSession.open(side.cluster.target, options, logger);
        side.warmup = await side.session.warmup();
      });
    }
    for (let round = 1; round <= options.rounds; round += 1) {
      const order = round % 2 === 1 ? sides : [...sides].reverse();
      for (const name of TEST_NAMES) {
        for (const side of order) await attempt(side, async () => side.session?.runTest(name, round));
      }
    }
    const reports = sides.map(({ cluster, session, warmup, failure }) =>
      cluster.finish(session === undefined ? cluster.emptyReport(options) : session.report(warmup ?? { puts: 0, failed: 0, errors: {} }), failure),
    );
    const [k8ts, etcd] = reports;
    if (k8ts === undefined || etcd === undefined) throw new Error('internal: a cluster is missing');
    return [k8ts, etcd];
  } finally {
    for (const side of sides) side.session?.close();
    removeSignalHandlers();
    await Promise.allSettled(sides.map((side) => side.cluster.stop()));
  }
}

/** True when any run saw a failed request, a broken promise, or a member in trouble. */
export function hasTrouble(report: StoreBenchReport): boolean {
  return report.runs.some((run: SuiteReport) =>
    run.problems.length > 0 || run.warmup.failed > 0 || run.tests.some((test) => test.failed > 0 || test.anomalies.count > 0),
  );
}
