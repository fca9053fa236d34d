import { TARGETS, type ApiServerBenchOptions } from './apiserver_options.js';
import type { ApiConditions, ApiCpuUse, ApiServerBenchReport, ApiTestResult, TargetCheck } from './apiserver_results.js';
import { captureMachine } from './conditions.js';
import { LATENCY_COLUMNS, formatNumber, renderKnee, table } from './report.js';

export function captureApiConditions(options: ApiServerBenchOptions, startedAt: Date, requestBodyBytes: number): ApiConditions {
  return {
    ...captureMachine(startedAt, 'one Node.js process on the same machine as the apiserver and store (it shares their cores)'),
    client: "HTTP/1.1, Node http.Agent keep-alive (idle connections closed 1 s before the server's Keep-Alive timeout), JSON bodies as kubectl sends",
    valueSizeBytes: options.valueSizeBytes,
    requestBodyBytes,
    ratePerSecond: options.ratePerSecond,
    durationSeconds: options.durationSeconds,
    connections: options.connections,
    maxInFlight: options.maxInFlight,
    warmupRequests: options.warmupRequests,
    requestTimeoutMs: options.requestTimeoutMs,
    seed: options.seed,
  };
}

/** The issue's targets against the figures: mutations' p99 at 200/s, and watch events delivered per second. */
export function checkTargets(tests: readonly ApiTestResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const test of tests) {
    if (test.name === 'create' || test.name === 'update') {
      const measured = `p99 ${formatNumber(test.latency.p99Ms)} ms at ${formatNumber(test.ratePerSecond)}/s asked (${formatNumber(test.perSecond)}/s answered, ${test.failed} failed)`;
      const atRate = test.ratePerSecond >= TARGETS.mutationRatePerSecond;
      checks.push({
        target: `${test.name}: p99 under ${TARGETS.mutationP99Ms} ms at ${TARGETS.mutationRatePerSecond} requests/s`,
        measured,
        met: atRate ? test.failed === 0 && test.latency.p99Ms < TARGETS.mutationP99Ms : 'not measured',
      });
    }
    if (test.name === 'watch') {
      const watchers = test.watch?.watchersOpened ?? 0;
      // Fewer watchers × writes per second than the target cannot show it (nor miss it).
      const demanded = watchers * test.ratePerSecond;
      checks.push({
        target: `watch: at least ${TARGETS.watchEventsPerSecond} events/s delivered`,
        measured: `${formatNumber(test.perSecond)} events/s to ${watchers} watchers (${formatNumber(demanded)}/s asked)`,
        met: demanded >= TARGETS.watchEventsPerSecond ? test.perSecond >= TARGETS.watchEventsPerSecond : 'not measured',
      });
    }
  }
  return checks;
}

function renderConditions(c: ApiConditions): string[] {
  return [
    `machine:  ${c.cpuCores} cores (${c.cpuModel}), ${c.memoryGiB} GiB, ${c.platform}, load average ${c.loadAverage1m} at start`,
    `runtime:  node ${c.nodeVersion}; load generator: ${c.benchProcess}`,
    `client:   ${c.client}; at most ${c.connections} connections, ${c.maxInFlight} requests in flight`,
    `load:     ConfigMaps with a ${c.valueSizeBytes}-byte value (${c.requestBodyBytes}-byte request bodies); open loop at ${c.ratePerSecond}/s for ${c.durationSeconds} s per test; latency from each request's due time`,
    `bounds:   ${c.warmupRequests} unmeasured warm-up requests; request deadline ${c.requestTimeoutMs} ms; no retries`,
    `started:  ${c.startedAt}`,
  ];
}

function renderCpu(cpu: ApiCpuUse | undefined): string[] {
  if (cpu === undefined) return [];
  const parts = [`load generator ${formatNumber(cpu.loadGeneratorPercent)}%`];
  if (cpu.apiserverPercent !== undefined) parts.push(`apiserver ${formatNumber(cpu.apiserverPercent)}%`);
  if (cpu.storeMembersPercent !== undefined) parts.push(`store members together ${formatNumber(cpu.storeMembersPercent)}%`);
  if (cpu.otherProcessesPercent !== undefined) parts.push(`other processes ${formatNumber(cpu.otherProcessesPercent)}%`);
  return [`    CPU (% of one core): ${parts.join(', ')}`];
}

function renderDetails(test: ApiTestResult): string[] {
  const lines = [`  ${test.name}: ${test.description}`];
  const watch = test.watch;
  if (watch) {
    lines.push(
      `    latency above is create sent → event received; events ${watch.eventsReceived} of ${watch.eventsExpected} expected (${watch.eventsMissing} missing, ${watch.eventsUnexpected} unexpected); ` +
        `${watch.watchersOpened} of ${watch.watchers} watches open in ${formatNumber(watch.setupMs)} ms${watch.watchesEnded > 0 ? `; ${watch.watchesEnded} ended early` : ''}`,
      `    creates: ${watch.writesAcknowledged} of ${watch.writes} acknowledged, p50 ${formatNumber(watch.writeLatency.p50Ms)} ms, p99 ${formatNumber(watch.writeLatency.p99Ms)} ms; generator lag max ${formatNumber(test.maxSendLagMs)} ms`,
      `    events delivered in each second from the first create: ${watch.eventsPerSecondSeries.join(', ') || '-'}`,
    );
  } else {
    lines.push(
      `    latency above is due time → answer; from the actual send (the closed-loop view): p50 ${formatNumber(test.serviceLatency.p50Ms)} ms, p99 ${formatNumber(test.serviceLatency.p99Ms)} ms, max ${formatNumber(test.serviceLatency.maxMs)} ms`,
      `    generator lag behind the schedule: max ${formatNumber(test.maxSendLagMs)} ms; ${test.inFlightWaits} sends waited for an in-flight slot`,
    );
  }
  if (test.knee) lines.push(...renderKnee(test.knee, 'creates'));
  lines.push(...renderCpu(test.cpu));
  for (const [message, count] of Object.entries(test.errors)) lines.push(`    ERROR ×${count}: ${message}`);
  return lines;
}

export function renderApiReport(report: ApiServerBenchReport): string {
  const { target } = report;
  const lines = ['k8ts bench apiserver: Kubernetes REST load on an apiserver', '', ...renderConditions(report.conditions), ''];
  lines.push(`target: ${target.server}${target.startedWith ? ` — ${target.startedWith}` : ''}`);
  if (target.storeEndpoints) lines.push(`  store: ${target.storeEndpoints.join(',')}${target.dataDirFilesystem ? `, data dirs on ${target.dataDirFilesystem}` : ''}`);
  lines.push(`  namespace: ${target.namespace}`);
  if (report.warmup.failed > 0) lines.push(`  warm-up: ${report.warmup.failed} of ${report.warmup.requests} requests failed: ${JSON.stringify(report.warmup.errors)}`);
  const header = ['test', 'rate', ...LATENCY_COLUMNS.map(([label]) => `${label} ms`), 'ok/sent', 'failed', 'stop'];
  const rows = report.tests.map((test) => [
    test.name,
    `${formatNumber(test.perSecond)} ${test.unit === 'events' ? 'events' : 'req'}/s`,
    ...LATENCY_COLUMNS.map(([, field]) => formatNumber(test.latency[field])),
    `${test.completed}/${test.sent}`,
    String(test.failed),
    test.stoppedBy,
  ]);
  lines.push('', ...table([header, ...rows]).map((line) => `  ${line}`), '', ...report.tests.flatMap(renderDetails), '');
  lines.push(...renderVerdicts(report, 'not measured at this rate'));
  return lines.join('\n');
}

/**
 * The end of a benchmark report: each target with its verdict (`notMeasured` when the run's shape
 * is not the target's), then the run's problems and the processes' logged warnings.
 */
export function renderVerdicts(
  report: { readonly targets: readonly TargetCheck[]; readonly problems: readonly string[]; readonly logWarnings?: Readonly<Record<string, readonly string[]>> },
  notMeasured: string,
): string[] {
  const lines: string[] = [];
  if (report.targets.length > 0) {
    lines.push("targets (the issue's; they never change the exit status):");
    for (const check of report.targets) {
      const verdict = check.met === 'not measured' ? notMeasured : check.met ? 'met' : 'NOT met';
      lines.push(`  ${check.target}: ${check.measured} — ${verdict}`);
    }
    lines.push('');
  }
  for (const problem of report.problems) lines.push(`PROBLEM: ${problem}`);
  for (const [process, warnings] of Object.entries(report.logWarnings ?? {})) {
    if (warnings.length === 0) continue;
    lines.push(`${process} log warnings (last ${warnings.length}):`, ...warnings.map((line) => `  ${line}`));
  }
  return lines;
}
