import type { Logger } from 'pino';
import { runOnFreshCluster } from './clusters.js';
import { captureConditions } from './conditions.js';
import { checkOptions, type StoreBenchOptions } from './options.js';
import { computeRatios } from './report.js';
import type { StoreBenchReport, SuiteReport } from './results.js';
import { runSuite } from './suite.js';

export type StoreBenchMode =
  | { readonly kind: 'endpoints'; readonly endpoints: readonly string[] }
  | { readonly kind: 'vs-etcd'; readonly members: number };

/**
 * The whole store benchmark: the suite on the given endpoints, or (vs-etcd) on a fresh k8ts-store
 * cluster and then, once that one is stopped, on a fresh etcd cluster of the same size, with the
 * ratio k8ts/etcd per test. The two clusters never run at the same time.
 */
export async function runStoreBench(mode: StoreBenchMode, options: StoreBenchOptions, logger: Logger): Promise<StoreBenchReport> {
  checkOptions(options);
  const conditions = captureConditions(options, new Date());
  if (mode.kind === 'endpoints') {
    return { conditions, runs: [await runSuite({ kind: 'endpoints', endpoints: mode.endpoints }, options, logger)] };
  }
  const k8ts = await runOnFreshCluster('k8ts', mode.members, options, logger);
  const etcd = await runOnFreshCluster('etcd', mode.members, options, logger);
  return { conditions, runs: [k8ts, etcd], ratios: computeRatios(k8ts, etcd) };
}

/** True when any run saw a failed request, a broken promise, or a member in trouble. */
export function hasTrouble(report: StoreBenchReport): boolean {
  return report.runs.some((run: SuiteReport) =>
    run.problems.length > 0 || run.warmup.failed > 0 || run.tests.some((test) => test.failed > 0 || test.anomalies.count > 0),
  );
}
