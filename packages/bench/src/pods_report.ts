/** What `k8ts bench pods` reports, its targets, and the text it prints. */
import { formatNumber, table } from './report.js';
import type { MachineConditions } from './results.js';
import { PODS_TARGETS, type PodsBenchOptions, type PodsBenchRuntime } from './pods_options.js';

export interface LatencyFigures {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface PodsTargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | 'not measured';
}

export interface PodsBenchReport {
  readonly mode: 'churn' | 'scale';
  readonly runtime: PodsBenchRuntime;
  readonly nodeCount: number;
  readonly conditions: MachineConditions & {
    readonly options: PodsBenchOptions;
    readonly cluster: string;
    readonly agentArgs: readonly string[];
    readonly nodesReadyAfterMs: number;
  };
  /** Created → all containers started, seen by a watch (the SLO's figure). */
  readonly podStartupLatencyMs: LatencyFigures;
  readonly schedulingLatencyMs: LatencyFigures;
  readonly nodeStartLatencyMs: LatencyFigures;
  readonly deletionLatencyMs: LatencyFigures;
  readonly pods: { readonly created: number; readonly started: number; readonly ready: number; readonly failed: number; readonly deleted: number; readonly gone: number };
  /** Scale mode: first create → last pod Ready. */
  readonly allReadyMs?: number;
  readonly achievedCreateRatePerSecond: number;
  readonly createErrors: Readonly<Record<string, number>>;
  /** At the end of the run. */
  readonly nodes: { readonly total: number; readonly ready: number; readonly leasesFresh: number };
  readonly agent: {
    readonly processes: number;
    readonly cpuPercent: number;
    readonly cpuPercentPerNode: number;
    readonly rssMiB: number;
    readonly peakRssMiB: number;
    readonly rssMiBPerNode: number;
  };
  readonly targets: readonly PodsTargetCheck[];
  readonly problems: readonly string[];
  readonly logWarnings?: Readonly<Record<string, readonly string[]>>;
}

export function podsTargets(report: PodsBenchReport): PodsTargetCheck[] {
  const t = PODS_TARGETS;
  const checks: PodsTargetCheck[] = [];
  const latency = report.podStartupLatencyMs;
  if (report.mode === 'churn') {
    const measured = latency.count > 0 ? `p99 ${formatNumber(latency.p99)} ms over ${latency.count} pods` : 'no pod started';
    checks.push({ target: `pod startup p99 ≤ ${t.p99StartupMs} ms (the issue's target)`, measured, met: latency.count > 0 && latency.p99 <= t.p99StartupMs });
    checks.push({ target: `pod startup p99 ≤ ${t.sloP99StartupMs} ms (Kubernetes' SLO)`, measured, met: latency.count > 0 && latency.p99 <= t.sloP99StartupMs });
  }
  if (report.runtime === 'simulated' && report.mode === 'scale') {
    const held = `${report.pods.ready} of ${report.pods.created} pods Ready on ${report.nodes.ready} of ${report.nodes.total} Ready nodes, agent peak RSS ${formatNumber(report.agent.peakRssMiB)} MiB`;
    const shaped = report.nodeCount >= t.simulatedNodesUnder1GiB && report.pods.created >= 30 * t.simulatedNodesUnder1GiB;
    const allHeld = report.pods.ready === report.pods.created && report.nodes.ready === report.nodes.total;
    checks.push({ target: `${t.simulatedNodesUnder1GiB} simulated nodes × 30 pods all Ready in under 1 GiB`, measured: held, met: shaped ? allHeld && report.agent.peakRssMiB < 1024 : 'not measured' });
    const big = report.nodeCount >= t.scaleNodes && report.pods.created >= t.scalePods;
    checks.push({ target: `${t.scaleNodes} nodes with ${t.scalePods} pods held`, measured: held, met: big ? allHeld : 'not measured' });
  }
  return checks;
}

function latencyRow(label: string, figures: LatencyFigures): string[] {
  return [label, String(figures.count), ...[figures.p50, figures.p90, figures.p99, figures.max].map(formatNumber)];
}

export function renderPodsReport(report: PodsBenchReport): string {
  const c = report.conditions;
  const o = c.options;
  const lines = [
    `k8ts bench pods: ${report.mode === 'churn' ? `pod startup latency at a churn of ${o.ratePerSecond} pods/s for ${o.durationSeconds} s (each deleted ${o.podLifetimeSeconds} s after its create)` : `${o.pods} pods at once (${o.createConcurrency} creates in flight), held ${o.holdSeconds} s`}`,
    `nodes:    ${report.nodeCount} ${report.runtime === 'simulated' ? 'simulated nodes in one k8ts-node-agent' : 'process-runtime k8ts-node-agents'} (${c.agentArgs.join(' ')}); all Ready ${formatNumber(c.nodesReadyAfterMs / 1000)} s after the agents started`,
    `cluster:  ${c.cluster}; image ${o.image}`,
    `machine:  ${c.cpuCores} cores (${c.cpuModel}), ${c.memoryGiB} GiB, ${c.platform}, load average ${c.loadAverage1m} at start; node ${c.nodeVersion}`,
    `started:  ${c.startedAt}`,
    '',
    ...table([
      ['latency (ms)', 'pods', 'p50', 'p90', 'p99', 'max'],
      latencyRow('startup: created → all containers started (SLO)', report.podStartupLatencyMs),
      latencyRow('  created → bound (scheduler)', report.schedulingLatencyMs),
      latencyRow('  bound → started (node)', report.nodeStartLatencyMs),
      latencyRow('delete call → gone (final delete)', report.deletionLatencyMs),
    ]).map((line) => `  ${line}`),
    '',
    `pods:     ${report.pods.created} created (${formatNumber(report.achievedCreateRatePerSecond)}/s achieved), ${report.pods.started} started, ${report.pods.ready} Ready, ${report.pods.failed} Failed, ${report.pods.deleted} deleted, ${report.pods.gone} gone`,
    ...(report.allReadyMs === undefined || report.mode !== 'scale' ? [] : [`all Ready: ${formatNumber(report.allReadyMs / 1000)} s from the first create`]),
    `nodes at the end: ${report.nodes.ready} of ${report.nodes.total} Ready, ${report.nodes.leasesFresh} Leases renewed within their duration`,
    `agent:    ${report.agent.processes} process(es): CPU ${formatNumber(report.agent.cpuPercent)}% of one core (${formatNumber(report.agent.cpuPercentPerNode)}% per node), RSS ${formatNumber(report.agent.rssMiB)} MiB at the end, peak ${formatNumber(report.agent.peakRssMiB)} MiB (${formatNumber(report.agent.rssMiBPerNode)} MiB per node)`,
    ...Object.entries(report.createErrors).map(([message, count]) => `  failed create attempts ×${count} (retried up to 5 times): ${message}`),
  ];
  if (report.targets.length > 0) {
    lines.push('', 'targets:');
    for (const check of report.targets) lines.push(`  ${check.met === true ? 'MET ' : check.met === false ? 'MISS' : '--  '} ${check.target}: ${check.measured}`);
  }
  for (const problem of report.problems) lines.push(`PROBLEM: ${problem}`);
  for (const [name, warnings] of Object.entries(report.logWarnings ?? {})) {
    if (warnings.length > 0) lines.push(`${name} log warnings:`, ...warnings.map((line) => `  ${line}`));
  }
  return lines.join('\n');
}
