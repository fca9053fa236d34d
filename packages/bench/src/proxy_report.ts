/** What `k8ts bench proxy` reports, and the text it prints. */
import { formatNumber, table } from './report.js';
import type { MachineConditions } from './results.js';

export interface ProxyBenchOptions {
  /** Runs of every measurement, each direct and through the proxy (the order alternates). */
  readonly runs: number;
  /** How long each connections/s measurement lasts. */
  readonly durationSeconds: number;
  /** Connections in flight at once during the connections/s measurement. */
  readonly concurrency: number;
  /** Request/response round trips timed on one kept connection, per run. */
  readonly requests: number;
  readonly requestBytes: number;
  /** Bytes sent through one connection for the throughput figure. */
  readonly megabytes: number;
}

export const DEFAULT_PROXY_OPTIONS: ProxyBenchOptions = { runs: 3, durationSeconds: 3, concurrency: 4, requests: 2000, requestBytes: 64, megabytes: 64 };

/** One run's figures on one path. */
export interface PathFigures {
  /** connect, one request/response, close — completed per second. */
  readonly connectionsPerSecond: number;
  readonly connectionErrors: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly throughputMiBPerSecond: number;
}

export interface ProxyRun {
  readonly run: number;
  readonly direct: PathFigures;
  readonly proxied: PathFigures;
}

export interface Spread {
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

export interface ProxyFigureSummary {
  readonly figure: keyof Omit<PathFigures, 'connectionErrors'>;
  readonly label: string;
  readonly direct: Spread;
  readonly proxied: Spread;
  /** proxied − direct, per run (for latency: the latency the proxy adds). */
  readonly added: Spread;
  /** proxied ÷ direct, per run. */
  readonly ratio: Spread;
}

export interface ProxyBenchReport {
  readonly conditions: MachineConditions & { readonly options: ProxyBenchOptions; readonly processes: string };
  readonly runs: readonly ProxyRun[];
  readonly summary: readonly ProxyFigureSummary[];
  readonly problems: readonly string[];
}

const FIGURES: [ProxyFigureSummary['figure'], string][] = [
  ['connectionsPerSecond', 'connections/s'],
  ['latencyP50Ms', 'request p50 ms'],
  ['latencyP99Ms', 'request p99 ms'],
  ['throughputMiBPerSecond', 'throughput MiB/s'],
];

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) return { mean: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { mean: values.reduce((sum, value) => sum + value, 0) / values.length, min: Math.min(...values), max: Math.max(...values) };
}

export function summarize(runs: readonly ProxyRun[]): ProxyFigureSummary[] {
  return FIGURES.map(([figure, label]) => ({
    figure,
    label,
    direct: spreadOf(runs.map((run) => run.direct[figure])),
    proxied: spreadOf(runs.map((run) => run.proxied[figure])),
    added: spreadOf(runs.map((run) => run.proxied[figure] - run.direct[figure])),
    ratio: spreadOf(runs.map((run) => run.proxied[figure] / run.direct[figure])),
  }));
}

const spreadText = (spread: Spread): string => `${formatNumber(spread.mean)} (${formatNumber(spread.min)}..${formatNumber(spread.max)})`;

export function renderProxyReport(report: ProxyBenchReport): string {
  const c = report.conditions;
  const o = c.options;
  const lines = [
    `k8ts bench proxy: the @k8ts/l4proxy TcpProxy against a direct connection, ${o.runs} runs (mean, and min..max over the runs)`,
    `machine:  ${c.cpuCores} cores (${c.cpuModel}), ${c.memoryGiB} GiB, ${c.platform}, load average ${c.loadAverage1m} at start; node ${c.nodeVersion}`,
    `processes: ${c.processes}`,
    `shape:    connections/s: ${o.concurrency} in flight for ${o.durationSeconds} s, each connect + one ${o.requestBytes}-byte request/response + close; ` +
      `latency: ${o.requests} ${o.requestBytes}-byte round trips on one kept connection; throughput: ${o.megabytes} MiB one way into a sink`,
    `started:  ${c.startedAt}`,
    '',
    ...table([
      ['figure', 'direct', 'through proxy', 'proxy − direct', 'proxy ÷ direct'],
      ...report.summary.map((row) => [row.label, spreadText(row.direct), spreadText(row.proxied), spreadText(row.added), spreadText(row.ratio)]),
    ]).map((line) => `  ${line}`),
    '',
    'each run:',
    ...table([
      ['run', 'path', 'conn/s', 'errors', 'p50 ms', 'p99 ms', 'MiB/s'],
      ...report.runs.flatMap((run) =>
        (['direct', 'proxied'] as const).map((path) => {
          const f = run[path];
          return [String(run.run), path, formatNumber(f.connectionsPerSecond), String(f.connectionErrors), formatNumber(f.latencyP50Ms), formatNumber(f.latencyP99Ms), formatNumber(f.throughputMiBPerSecond)];
        }),
      ),
    ]).map((line) => `  ${line}`),
  ];
  for (const problem of report.problems) lines.push(`PROBLEM: ${problem}`);
  return lines.join('\n');
}
