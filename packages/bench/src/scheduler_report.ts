import { renderVerdicts } from './apiserver_report.js';
import { captureMachine } from './conditions.js';
import { LATENCY_COLUMNS, formatNumber, table } from './report.js';
import { SCHEDULER_TARGET, type SchedulerBenchOptions } from './scheduler_options.js';
import type { AnomalyReport } from './results.js';
import type {
  SchedulerBenchReport,
  SchedulerChecks,
  SchedulerConditions,
  SchedulerCpuUse,
  SchedulingMeasurement,
  SetupPhase,
  TargetCheck,
} from './scheduler_results.js';
import { describeRequests, type WorkloadPlan } from './scheduler_workloads.js';

export function captureSchedulerConditions(
  options: SchedulerBenchOptions,
  plan: WorkloadPlan,
  startedAt: Date,
  extra: { store: string; versions: Readonly<Record<string, string>>; schedulerArgs: readonly string[] },
): SchedulerConditions {
  const fill = plan.fill === undefined ? '' : '; victims are deleted at once (terminationGracePeriodSeconds 0)';
  return {
    ...captureMachine(startedAt, 'one Node.js process on the same machine as the scheduler, apiserver and store (it shares their cores)'),
    workload: plan.name,
    workloadDescription: plan.description,
    nodes: options.nodes,
    measuredPods: plan.measuredPods,
    fillPods: plan.fill?.pods ?? 0,
    zones: options.zones,
    node: { cpu: options.nodeCpu, memory: options.nodeMemory, pods: options.nodePods },
    podRequests: describeRequests(plan.measuredRequests),
    concurrency: options.concurrency,
    timeoutSeconds: options.timeoutSeconds,
    store: extra.store,
    versions: extra.versions,
    schedulerArgs: extra.schedulerArgs,
    writesDuringMeasurement:
      'every pod is created (and Preemption’s fill pods bound) before the scheduler starts, so the store’s writes during measurement are ' +
      `the scheduler's: bindings, Events${plan.fill === undefined ? '' : ', victims’ deletions, nominatedNodeName updates'}${fill}`,
  };
}

/** The issue's target, judged on scheduler_perf's statistic (SchedulingThroughput's average). */
export function checkSchedulerTargets(conditions: Pick<SchedulerConditions, 'workload' | 'nodes' | 'measuredPods'>, measurement: SchedulingMeasurement | undefined): TargetCheck[] {
  const t = SCHEDULER_TARGET;
  const target = `${t.workload} ${t.nodes} nodes/${t.pods} pods: at least ${t.podsPerSecond} pods/s (kube-scheduler's CI floor ${t.upstreamFloorPodsPerSecond} pods/s)`;
  if (measurement === undefined) return [{ target, measured: 'no measurement', met: 'not measured' }];
  const figures = measurement.throughput;
  const sampled = figures.samples.length > 0;
  const rate = sampled ? figures.average : figures.firstToLastPerSecond;
  const how = sampled
    ? `SchedulingThroughput average ${formatNumber(figures.average)} pods/s over ${figures.samples.length} samples`
    : `first → last bind ${formatNumber(figures.firstToLastPerSecond)} pods/s (too short for SchedulingThroughput samples)`;
  const measured = `${how} with ${conditions.workload} ${conditions.nodes} nodes/${conditions.measuredPods} pods${measurement.unbound > 0 ? `, ${measurement.unbound} left unbound` : ''}`;
  const shaped = conditions.workload === t.workload && conditions.nodes >= t.nodes && conditions.measuredPods >= t.pods;
  return [{ target, measured, met: shaped ? measurement.unbound === 0 && rate >= t.podsPerSecond : 'not measured' }];
}

/** The checks' anomalies as problems (each makes the exit status 1). */
export function checkProblems(checks: SchedulerChecks): string[] {
  const problems: string[] = [];
  const add = (what: string, anomalies: AnomalyReport): void => {
    if (anomalies.count === 0) return;
    const more = anomalies.count > anomalies.samples.length ? ` (first ${anomalies.samples.length} of ${anomalies.count})` : '';
    problems.push(`${what}${more}: ${anomalies.samples.join('; ')}`);
  };
  add('bindings', checks.bindings);
  add('over-commit', checks.capacity);
  add('placement', checks.placement);
  if (checks.unbound > 0) problems.push(`${checks.unbound} measured pods were left unbound when measurement ended`);
  return problems;
}

function renderConditions(c: SchedulerConditions): string[] {
  const versions = Object.entries(c.versions).map(([name, version]) => `${name} ${version}`).join(', ');
  return [
    `machine:  ${c.cpuCores} cores (${c.cpuModel}), ${c.memoryGiB} GiB, ${c.platform}, load average ${c.loadAverage1m} at start`,
    `runtime:  node ${c.nodeVersion}; load generator: ${c.benchProcess}`,
    `versions: ${versions || '-'}`,
    `workload: ${c.workload}: ${c.workloadDescription}`,
    `nodes:    ${c.nodes} simulated nodes (Node objects, no kubelet), capacity = allocatable cpu ${c.node.cpu}, memory ${c.node.memory}, pods ${c.node.pods} ` +
      "(scheduler_perf's node-default.yaml: 4, 32Gi, 110), Ready, " +
      `round robin over ${c.zones} zones`,
    `pods:     ${c.measuredPods} measured (requests ${c.podRequests})${c.fillPods > 0 ? ` + ${c.fillPods} fill pods` : ''}; created through the gRPC API, ${c.concurrency} in flight`,
    `writes:   ${c.writesDuringMeasurement}`,
    `store:    ${c.store}; scheduler flags: ${c.schedulerArgs.join(' ')}`,
    `bounds:   measurement ends when every measured pod is seen bound or after ${c.timeoutSeconds} s`,
    `started:  ${c.startedAt}`,
  ];
}

function renderSetup(phases: readonly SetupPhase[]): string[] {
  if (phases.length === 0) return [];
  const header = ['setup (unmeasured)', 'done/asked', 'failed', 's', 'rate', 'p50 ms', 'p99 ms'];
  const rows = phases.map((phase) => [
    phase.name,
    `${phase.completed}/${phase.requested}`,
    String(phase.failed),
    formatNumber(phase.elapsedMs / 1000),
    `${formatNumber(phase.perSecond)} ${phase.name === 'nodes' ? 'nodes' : phase.name === 'fill bindings' ? 'binds' : 'pods'}/s`,
    formatNumber(phase.latency.p50Ms),
    formatNumber(phase.latency.p99Ms),
  ]);
  const lines = table([header, ...rows]).map((line) => `  ${line}`);
  for (const phase of phases) for (const [message, count] of Object.entries(phase.errors)) lines.push(`  ${phase.name} ERROR ×${count}: ${message}`);
  return lines;
}

function renderCpu(cpu: SchedulerCpuUse | undefined): string[] {
  if (cpu === undefined) return [];
  const parts: string[] = [];
  if (cpu.schedulerPercent !== undefined) parts.push(`scheduler ${formatNumber(cpu.schedulerPercent)}%`);
  if (cpu.apiserverPercent !== undefined) parts.push(`apiserver ${formatNumber(cpu.apiserverPercent)}%`);
  if (cpu.storeMembersPercent !== undefined) parts.push(`store members together ${formatNumber(cpu.storeMembersPercent)}%`);
  parts.push(`load generator ${formatNumber(cpu.loadGeneratorPercent)}%`);
  if (cpu.otherProcessesPercent !== undefined) parts.push(`other processes ${formatNumber(cpu.otherProcessesPercent)}%`);
  return [`  CPU during measurement (% of one core): ${parts.join(', ')}`];
}

function renderMeasurement(m: SchedulingMeasurement): string[] {
  const t = m.throughput;
  const seconds = (ms: number): string => `${formatNumber(ms / 1000)} s`;
  const lines = [
    `scheduling (measured from the scheduler's /healthz answering, ${formatNumber(m.schedulerStartMs)} ms after its spawn, to the last bind seen by a watch on the pods):`,
    `  bound:      ${m.bound} of ${m.measuredPods} measured pods in ${seconds(m.elapsedMs)} (${m.stoppedBy}); first bind ${seconds(t.firstBindMs)} after ready` +
      (m.boundBeforeReady > 0 ? `; ${m.boundBeforeReady} seen bound before /healthz answered (counted at 0 ms)` : ''),
    `  throughput: ${formatNumber(t.overallPerSecond)} pods/s overall (bound ÷ ready → last bind), ${formatNumber(t.firstToLastPerSecond)} pods/s from the first bind to the last`,
    t.samples.length > 0
      ? `  SchedulingThroughput (scheduler_perf's: a sample each ${formatNumber(t.intervalMs / 1000)} s after the first bound pod): ` +
        `average ${formatNumber(t.average)}, p50 ${formatNumber(t.p50)}, p90 ${formatNumber(t.p90)}, p99 ${formatNumber(t.p99)} pods/s (${t.samples.length} samples)`
      : `  SchedulingThroughput: no samples (binding took under two ${formatNumber(t.intervalMs / 1000)}-s intervals)`,
  ];
  if (t.samples.length > 0) lines.push(`    samples: ${t.samples.map((sample) => formatNumber(sample)).join(', ')}`);
  const header = ['latency (ready → bind seen)', ...LATENCY_COLUMNS.map(([label]) => `${label} ms`), 'pods'];
  const row = ['', ...LATENCY_COLUMNS.map(([, field]) => formatNumber(m.latency[field])), String(m.latency.count)];
  lines.push(...table([header, row]).map((line) => `  ${line}`));
  if (m.schedulerMetrics.length > 0) {
    lines.push("  the scheduler's /metrics (histogram buckets, interpolated as histogram_quantile):");
    for (const metric of m.schedulerMetrics) {
      lines.push(
        `    ${metric.name}${metric.selector ? `{${metric.selector}}` : ''}: ${metric.count} observations, mean ${formatNumber(metric.meanMs)} ms, ` +
          `p50 ${formatNumber(metric.p50Ms)} ms, p90 ${formatNumber(metric.p90Ms)} ms, p99 ${formatNumber(metric.p99Ms)} ms` +
          (metric.aboveLastBucket > 0
            ? `; ${metric.aboveLastBucket} above its last bucket (${formatNumber(metric.lastBucketMs)} ms), where the quantiles stop`
            : ''),
      );
    }
  } else {
    lines.push(`  the scheduler's /metrics: ${m.schedulerMetricsNote ?? 'no scheduling latency histogram'}`);
  }
  const failed = m.failedScheduling;
  lines.push(`  FailedScheduling events: ${failed.events} (${failed.occurrences} occurrences)${failed.messages.length > 0 ? `; e.g. ${failed.messages.map((message) => JSON.stringify(message)).join(', ')}` : ''}`);
  if (m.victimsDeleted !== undefined) lines.push(`  preemption victims deleted: ${m.victimsDeleted}`);
  lines.push(...renderCpu(m.cpu));
  return lines;
}

function renderChecks(checks: SchedulerChecks): string[] {
  const verdict = (anomalies: AnomalyReport, ok: string, bad: string): string => (anomalies.count === 0 ? ok : `${anomalies.count} ${bad} — see PROBLEM`);
  const lines = [
    'checks:',
    `  bindings:  ${verdict(checks.bindings, 'no pod bound twice, moved, or bound to an unknown node; no measured pod deleted', 'anomalies')}`,
    `  capacity:  ${verdict(checks.capacity, "no node's pods request more cpu, memory or pod slots than it allocates", 'nodes over their allocatable')}`,
    `  unbound:   ${checks.unbound === 0 ? 'every measured pod is bound' : `${checks.unbound} measured pods left unbound — see PROBLEM`}`,
  ];
  if (checks.placementSummary !== undefined) lines.push(`  placement: ${checks.placementSummary}${checks.placement.count > 0 ? ' — see PROBLEM' : ''}`);
  return lines;
}

export function renderSchedulerReport(report: SchedulerBenchReport): string {
  const { target } = report;
  const lines = [`k8ts bench scheduler: scheduler_perf's ${report.conditions.workload} on k8ts-scheduler`, '', ...renderConditions(report.conditions), ''];
  lines.push(`target: ${target.server} (gRPC ${target.grpc})${target.startedWith ? ` — ${target.startedWith}` : ''}`);
  if (target.storeEndpoints) lines.push(`  store: ${target.storeEndpoints.join(',')}${target.dataDirFilesystem ? `, data dirs on ${target.dataDirFilesystem}` : ''}`);
  if (target.schedulerHealthUrl) lines.push(`  scheduler: ${target.schedulerHealthUrl} (/healthz, /metrics)`);
  lines.push(`  namespace: ${target.namespace}`, '');
  lines.push(...renderSetup(report.setup), '');
  if (report.measurement) lines.push(...renderMeasurement(report.measurement), '');
  if (report.checks) lines.push(...renderChecks(report.checks), '');
  lines.push(...renderVerdicts(report, 'not measured at this shape'));
  return lines.join('\n');
}
