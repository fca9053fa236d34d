import { execFile } from 'node:child_process';
import type { StoreKind } from '@k8ts/testkit';
import type { Logger } from 'pino';
import { BenchCluster, checkBinary, checkOnPath, stopClustersOnSignal } from './clusters.js';
import { captureMachine } from './conditions.js';
import { measureCpu } from './cpu.js';
import { formatNumber, ratio, spread, table } from './report.js';
import type { MachineConditions } from './results.js';

/** etcdctl check perf's load profiles (clients, writes/s asked; it passes at 90% of the rate). */
export const CHECK_PERF_LOADS = ['s', 'm', 'l', 'xl'] as const;
export type CheckPerfLoad = (typeof CHECK_PERF_LOADS)[number];

export interface CheckPerfOptions {
  readonly load: CheckPerfLoad;
  readonly runs: number;
  readonly members: number;
}

/** What `etcdctl check perf` printed: its three verdicts and their figures. */
export interface CheckPerfVerdict {
  readonly writesPerSecond: number;
  readonly slowestSeconds: number;
  readonly stddevSeconds: number;
  readonly throughputPassed: boolean;
  readonly slowestPassed: boolean;
  readonly stddevPassed: boolean;
  readonly passed: boolean;
}

export interface CheckPerfRun {
  readonly kind: StoreKind;
  readonly run: number;
  /** The run's verdict, or why there is none. */
  readonly verdict?: CheckPerfVerdict;
  readonly problem?: string;
  /** The members together over etcdctl's run, % of one core. */
  readonly membersCpuPercent?: number;
  readonly seconds: number;
}

export interface CheckPerfReport {
  readonly conditions: MachineConditions & CheckPerfOptions;
  /** In the order they ran. */
  readonly runs: readonly CheckPerfRun[];
}

const ETCDCTL_TIMEOUT_MS = 5 * 60_000;

/**
 * Reads etcdctl 3.4's check perf output (its progress bar is redrawn with carriage returns): the
 * lines "PASS: Throughput is N writes/s" or "FAIL: Throughput too low: N writes/s", "PASS: Slowest
 * request took Xs" or "Slowest request took too long: Xs", "PASS: Stddev is Xs" or "Stddev too high:
 * Xs", then PASS or FAIL.
 */
export function parseCheckPerf(output: string): CheckPerfVerdict {
  const lines = output.split(/[\r\n]+/).map((line) => line.trim());
  const figure = (pattern: RegExp, what: string): { value: number; passed: boolean } => {
    for (const line of lines) {
      const match = pattern.exec(line);
      if (match) return { value: Number(match[2]), passed: match[1] === 'PASS: ' };
    }
    throw new Error(`etcdctl check perf printed no ${what} line`);
  };
  const throughput = figure(/^(PASS: |FAIL: )Throughput (?:is|too low:) (\d+) writes\/s$/, 'throughput');
  const slowest = figure(/^(PASS: )?Slowest request took (?:too long: )?([\d.]+)s$/, 'slowest request');
  const stddev = figure(/^(PASS: )?Stddev (?:is|too high:) ([\d.]+)s$/, 'stddev');
  const overall = lines.filter((line) => line === 'PASS' || line === 'FAIL').pop();
  if (overall === undefined) throw new Error('etcdctl check perf printed no PASS or FAIL');
  return {
    writesPerSecond: throughput.value,
    slowestSeconds: slowest.value,
    stddevSeconds: stddev.value,
    throughputPassed: throughput.passed,
    slowestPassed: slowest.passed,
    stddevPassed: stddev.passed,
    passed: overall === 'PASS',
  };
}

/**
 * `etcdctl check perf --load=<load>` on a fresh cluster of each kind, `runs` times, the kinds
 * alternating and the first of them alternating between runs (k8ts first in odd runs), so the
 * machine's phase falls on both alike. Each cluster is started for its run and stopped after it: the
 * check writes ~60 s of its load and then deletes what it wrote.
 */
export async function runCheckPerfBench(options: CheckPerfOptions, logger: Logger): Promise<CheckPerfReport> {
  checkBinary('k8ts');
  checkBinary('etcd');
  checkOnPath('etcdctl', 'etcd-client');
  const conditions = { ...captureMachine(new Date(), 'etcdctl (etcd 3.4\'s client) on the same machine as the members'), ...options };
  const runs: CheckPerfRun[] = [];
  const running: BenchCluster[] = [];
  const client = new AbortController();
  const removeSignalHandlers = stopClustersOnSignal(() => running, logger, () => client.abort());
  try {
    for (let run = 1; run <= options.runs; run += 1) {
      const kinds: StoreKind[] = run % 2 === 1 ? ['k8ts', 'etcd'] : ['etcd', 'k8ts'];
      for (const kind of kinds) {
        const result = await checkPerfOnce(kind, run, options, running, client.signal, logger);
        logger.info({ ...result }, 'check perf done');
        runs.push(result);
      }
    }
  } finally {
    removeSignalHandlers();
  }
  return { conditions, runs };
}

/** One check on a fresh cluster, kept in `running` while it runs (for the signal handlers). */
async function checkPerfOnce(kind: StoreKind, run: number, options: CheckPerfOptions, running: BenchCluster[], abort: AbortSignal, logger: Logger): Promise<CheckPerfRun> {
  const started = performance.now();
  const seconds = (): number => Math.round((performance.now() - started) / 100) / 10;
  let cluster: BenchCluster | undefined;
  try {
    cluster = await BenchCluster.start(kind, options.members, logger);
    running.push(cluster);
    const { endpoints, memberPids } = cluster.target;
    const { result: output, cpu } = await measureCpu(memberPids ?? [], () => etcdctl(['--endpoints', endpoints.join(','), 'check', 'perf', `--load=${options.load}`], abort));
    return { kind, run, verdict: parseCheckPerf(output), ...(cpu.membersPercent === undefined ? {} : { membersCpuPercent: cpu.membersPercent }), seconds: seconds() };
  } catch (error) {
    return { kind, run, problem: error instanceof Error ? error.message : String(error), seconds: seconds() };
  } finally {
    running.length = 0;
    await cluster?.stop();
  }
}

/** Runs etcdctl (API v3) and gives its output; check perf exits non-zero when it FAILs, which is a result here. */
function etcdctl(args: readonly string[], abort: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { env: { ...process.env, ETCDCTL_API: '3' }, timeout: ETCDCTL_TIMEOUT_MS, maxBuffer: 64 * 2 ** 20, signal: abort };
    execFile('etcdctl', [...args], options, (error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      if (error !== null && !/^(PASS|FAIL)$/m.test(output.replace(/\r/g, '\n'))) reject(new Error(`etcdctl ${args.join(' ')}: ${error.message}`));
      else resolve(output);
    });
  });
}

/** The runs side by side per run, then the median k8ts/etcd with its range. */
export function renderCheckPerfReport(report: CheckPerfReport): string {
  const c = report.conditions;
  const lines = [
    `k8ts bench check-perf: etcdctl check perf --load=${c.load} on ${c.members} fresh members of k8ts-store and of etcd 3.4, ${c.runs} run(s) each, alternating`,
    '',
    `machine:  ${c.cpuCores} cores (${c.cpuModel}), ${c.memoryGiB} GiB, ${c.platform}, load average ${c.loadAverage1m} at start`,
    `client:   ${c.benchProcess}; started ${c.startedAt}`,
    '',
  ];
  const find = (kind: StoreKind, run: number): CheckPerfRun | undefined => report.runs.find((entry) => entry.kind === kind && entry.run === run);
  const cell = (entry: CheckPerfRun | undefined, pick: (verdict: CheckPerfVerdict) => string): string => (entry?.verdict ? pick(entry.verdict) : '-');
  const rows: string[][] = [['run', 'first', 'k8ts writes/s', 'etcd writes/s', 'k8ts/etcd', 'k8ts slowest s', 'etcd slowest s', 'k8ts stddev s', 'etcd stddev s', 'k8ts CPU %', 'etcd CPU %', 'k8ts', 'etcd']];
  const ratios: number[] = [];
  const slowestRatios: number[] = [];
  for (let run = 1; run <= c.runs; run += 1) {
    const ours = find('k8ts', run);
    const theirs = find('etcd', run);
    const throughput = ratio(ours?.verdict?.writesPerSecond ?? Number.NaN, theirs?.verdict?.writesPerSecond ?? Number.NaN);
    ratios.push(throughput);
    slowestRatios.push(ratio(ours?.verdict?.slowestSeconds ?? Number.NaN, theirs?.verdict?.slowestSeconds ?? Number.NaN));
    rows.push([
      String(run),
      report.runs.find((entry) => entry.run === run)?.kind ?? '?',
      cell(ours, (v) => String(v.writesPerSecond)),
      cell(theirs, (v) => String(v.writesPerSecond)),
      formatNumber(throughput),
      cell(ours, (v) => formatNumber(v.slowestSeconds)),
      cell(theirs, (v) => formatNumber(v.slowestSeconds)),
      cell(ours, (v) => formatNumber(v.stddevSeconds)),
      cell(theirs, (v) => formatNumber(v.stddevSeconds)),
      formatNumber(ours?.membersCpuPercent ?? Number.NaN),
      formatNumber(theirs?.membersCpuPercent ?? Number.NaN),
      cell(ours, (v) => (v.passed ? 'PASS' : 'FAIL')),
      cell(theirs, (v) => (v.passed ? 'PASS' : 'FAIL')),
    ]);
  }
  lines.push(...table(rows).map((line) => `  ${line}`), '');
  lines.push(`median k8ts/etcd (min–max): throughput ${spread(ratios)}; slowest request ${spread(slowestRatios)}`);
  for (const entry of report.runs) if (entry.problem !== undefined) lines.push(`PROBLEM: ${entry.kind} run ${entry.run}: ${entry.problem}`);
  return lines.join('\n');
}
