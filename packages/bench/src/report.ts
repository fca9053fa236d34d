import type { KneeResult } from './watch_knee.js';
import type { Conditions, StoreBenchReport, SuiteReport, TestRatios, TestResult } from './results.js';
import type { LatencySummary } from './stats.js';

/** k8ts ÷ etcd for every test both runs have (NaN where etcd's figure is 0 or missing). */
export function computeRatios(k8ts: SuiteReport, etcd: SuiteReport): TestRatios[] {
  return k8ts.tests.flatMap((ours) => {
    const theirs = etcd.tests.find((test) => test.name === ours.name);
    if (theirs === undefined) return [];
    return [
      {
        name: ours.name,
        perSecond: ratio(ours.perSecond, theirs.perSecond),
        p50Ms: ratio(ours.latency.p50Ms, theirs.latency.p50Ms),
        p90Ms: ratio(ours.latency.p90Ms, theirs.latency.p90Ms),
        p99Ms: ratio(ours.latency.p99Ms, theirs.latency.p99Ms),
        p999Ms: ratio(ours.latency.p999Ms, theirs.latency.p999Ms),
      },
    ];
  });
}

export function ratio(ours: number, theirs: number): number {
  return Number.isFinite(ours) && Number.isFinite(theirs) && theirs !== 0 ? ours / theirs : Number.NaN;
}

/** Three significant figures, no exponent: 0.123, 1.23, 12.3, 123, 12345. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const magnitude = Math.abs(value);
  if (magnitude >= 100 || value === 0) return Math.round(value).toString();
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function renderConditions(conditions: Conditions): string[] {
  return [
    `machine:  ${conditions.cpuCores} cores (${conditions.cpuModel}), ${conditions.memoryGiB} GiB, ${conditions.platform}, load average ${conditions.loadAverage1m} at start`,
    `runtime:  node ${conditions.nodeVersion}; load generator: ${conditions.benchProcess}`,
    `data:     ${conditions.keySizeBytes}-byte keys (${conditions.keyOrder} in a key space of ${conditions.keySpaceSize}, seed ${conditions.seed}), ${conditions.valueSizeBytes}-byte values`,
    `bounds:   ${conditions.warmupPuts} unmeasured warm-up puts and ${Math.ceil(conditions.warmupPuts / 4)} reads of each kind; each test stops at its count or after ${conditions.maxSecondsPerTest} s; request deadline ${conditions.requestTimeoutMs} ms; no retries`,
    `started:  ${conditions.startedAt}`,
  ];
}

function renderTarget(run: SuiteReport): string[] {
  const target = run.target;
  const lines = [`target: ${target.kind}${target.startedWith ? ` — ${target.startedWith}` : ''}`];
  if (target.dataDirFilesystem) lines.push(`  data dirs on ${target.dataDirFilesystem}`);
  lines.push(...target.members.map((member) => `  ${member}`));
  lines.push(`  clients on: ${target.targetMode === 'leader' ? `the leader only (${target.usedEndpoints.join(',')})` : 'every endpoint, round robin by connection'}`);
  if (run.warmup.failed > 0) lines.push(`  warm-up: ${run.warmup.failed} of ${run.warmup.puts} puts failed: ${JSON.stringify(run.warmup.errors)}`);
  return lines;
}

/** The latency columns every benchmark table prints, in order. */
export const LATENCY_COLUMNS: [string, keyof LatencySummary][] = [
  ['p50', 'p50Ms'],
  ['p90', 'p90Ms'],
  ['p99', 'p99Ms'],
  ['p999', 'p999Ms'],
  ['max', 'maxMs'],
];

/** One run: a table of tests, then each test's shape, errors and anomalies. */
export function renderSuite(run: SuiteReport): string[] {
  const header = ['test', 'rate', ...LATENCY_COLUMNS.map(([label]) => `${label} ms`), 'ok/sent', 'failed', 'stop'];
  const rows = run.tests.map((test) => [
    test.name,
    `${formatNumber(test.perSecond)} ${test.unit}/s`,
    ...LATENCY_COLUMNS.map(([, field]) => formatNumber(test.latency[field])),
    `${test.completed}/${test.sent}`,
    String(test.failed),
    test.stoppedBy,
  ]);
  return [...renderTarget(run), '', ...table([header, ...rows]).map((line) => `  ${line}`), '', ...run.tests.flatMap(renderDetails), ...renderProblems(run)];
}

function renderDetails(test: TestResult): string[] {
  const lines = [`  ${test.name}: ${test.description}`];
  if (test.readsFound !== undefined) lines.push(`    ${test.readsFound} of ${test.completed} reads found their key`);
  const watch = test.watch;
  if (watch) {
    lines.push(
      `    latency above is put sent → event received; events ${watch.eventsReceived} of ${watch.eventsExpected} expected (${watch.eventsMissing} missing); watchers created in ${formatNumber(watch.setupMs)} ms`,
      `    puts: ${watch.putsAcknowledged} of ${watch.puts} acknowledged, ${formatNumber(watch.putsPerSecond)}/s, p50 ${formatNumber(watch.putLatency.p50Ms)} ms, p99 ${formatNumber(watch.putLatency.p99Ms)} ms`,
    );
    if (watch.putRatePerSecond > 0 && watch.putsPerSecond < 0.97 * watch.putRatePerSecond) {
      lines.push(`    puts fell behind the asked ${watch.putRatePerSecond}/s: the event latency includes the puts' queueing`);
    }
  }
  if (test.knee) lines.push(...renderKnee(test.knee));
  if (test.cpu) {
    const members = test.cpu.membersPercent === undefined ? '' : `, the members together ${formatNumber(test.cpu.membersPercent)}%`;
    const othersLabel = test.cpu.membersPercent === undefined ? 'the rest of the machine (members included)' : 'other processes';
    const others = test.cpu.otherProcessesPercent === undefined ? '' : `, ${othersLabel} ${formatNumber(test.cpu.otherProcessesPercent)}%`;
    lines.push(`    CPU (% of one core): load generator ${formatNumber(test.cpu.loadGeneratorPercent)}%${members}${others}`);
  }
  for (const [message, count] of Object.entries(test.errors)) lines.push(`    ERROR ×${count}: ${message}`);
  if (test.anomalies.count > 0) {
    lines.push(`    ANOMALIES: ${test.anomalies.count} answers break the etcd API's promises; first ones:`);
    lines.push(...test.anomalies.samples.map((sample) => `      ${sample}`));
  }
  return lines;
}

/** Each step of a knee search, and the verdict; `writes` names what the steps wrote ("puts", "creates"). */
export function renderKnee(knee: KneeResult, writes = 'puts'): string[] {
  const behind = (limit: KneeResult['limitedBy']): string => (limit === 'puts' ? `the ${writes} (the write path)` : limit === 'delivery' ? 'event delivery' : 'requests (errors)');
  const verdict =
    knee.knee === undefined
      ? `    knee: not even ${knee.steps[0]?.putRate ?? 0} ${writes}/s kept up (${behind(knee.limitedBy)} fell behind)`
      : `    knee: delivery keeps up to ${knee.knee.putRate} ${writes}/s × ${knee.knee.watchers} watchers = ${formatNumber(knee.knee.eventsPerSecond)} events/s` +
        (knee.limitedBy === undefined ? ' (the highest rate tried: raise --watch-knee-max-rate)' : `; past it ${behind(knee.limitedBy)} fell behind`);
  return [
    verdict,
    ...knee.steps.map(
      (step) =>
        `      ${step.putRate} ${writes}/s asked: ${formatNumber(step.putsPerSecond)} ${writes}/s, ${formatNumber(step.eventsPerSecond)} events/s, ` +
        `write→event p50 ${formatNumber(step.latency.p50Ms)} ms p99 ${formatNumber(step.latency.p99Ms)} ms` +
        (step.eventsMissing > 0 ? `, ${step.eventsMissing} events late or missing` : '') +
        (step.fellBehind === undefined ? ', kept up' : `, ${behind(step.fellBehind)} fell behind`),
    ),
  ];
}

function renderProblems(run: SuiteReport): string[] {
  const lines = run.problems.map((problem) => `  PROBLEM: ${problem}`);
  const troubled = run.problems.length > 0 || run.tests.some((test) => test.failed > 0 || test.anomalies.count > 0);
  if (troubled && run.memberLogWarnings) {
    for (const [member, warnings] of Object.entries(run.memberLogWarnings)) {
      if (warnings.length === 0) continue;
      lines.push(`  ${member} log warnings (last ${warnings.length}):`, ...warnings.map((line) => `    ${line}`));
    }
  }
  return lines;
}

/** --vs-etcd: each test's figures side by side with k8ts/etcd. */
export function renderComparison(k8ts: SuiteReport, etcd: SuiteReport, ratios: readonly TestRatios[]): string[] {
  const lines: string[] = [];
  for (const ours of k8ts.tests) {
    const theirs = etcd.tests.find((test) => test.name === ours.name);
    const ratioOf = ratios.find((entry) => entry.name === ours.name);
    if (theirs === undefined || ratioOf === undefined) continue;
    const rows: string[][] = [
      ['', 'k8ts', 'etcd', 'k8ts/etcd'],
      [`${ours.unit}/s`, formatNumber(ours.perSecond), formatNumber(theirs.perSecond), formatNumber(ratioOf.perSecond)],
      ...(['p50Ms', 'p90Ms', 'p99Ms', 'p999Ms'] as const).map((field) => [
        `${field.replace('Ms', '')} ms`,
        formatNumber(ours.latency[field]),
        formatNumber(theirs.latency[field]),
        formatNumber(ratioOf[field]),
      ]),
      ['max ms', formatNumber(ours.latency.maxMs), formatNumber(theirs.latency.maxMs), ''],
      ['client CPU %', formatNumber(ours.cpu?.loadGeneratorPercent ?? Number.NaN), formatNumber(theirs.cpu?.loadGeneratorPercent ?? Number.NaN), ''],
      ['members CPU %', formatNumber(ours.cpu?.membersPercent ?? Number.NaN), formatNumber(theirs.cpu?.membersPercent ?? Number.NaN), ''],
      ['other procs CPU %', formatNumber(ours.cpu?.otherProcessesPercent ?? Number.NaN), formatNumber(theirs.cpu?.otherProcessesPercent ?? Number.NaN), ''],
      ['ok/sent', `${ours.completed}/${ours.sent}`, `${theirs.completed}/${theirs.sent}`, ''],
      ['failed', String(ours.failed), String(theirs.failed), ''],
      ['anomalies', String(ours.anomalies.count), String(theirs.anomalies.count), ''],
    ];
    lines.push(`${ours.name}: ${ours.description}`, ...table(rows, [false, true, true, true]).map((line) => `  ${line}`), '');
  }
  return lines;
}

export function renderReport(report: StoreBenchReport): string {
  const lines = ['k8ts bench store: load on the etcd v3 gRPC API', '', ...renderConditions(report.conditions), ''];
  const [k8ts, etcd] = report.runs;
  if (report.ratios && k8ts && etcd) {
    lines.push('== side by side (throughput ratio above 1: k8ts faster; latency ratio above 1: k8ts slower) ==', '');
    lines.push(...renderComparison(k8ts, etcd, report.ratios));
    lines.push('== each run ==', '');
  }
  for (const run of report.runs) lines.push(...renderSuite(run), '');
  return lines.join('\n');
}

/** Columns padded to their widest cell; numbers right-aligned unless `rightAlign` says otherwise. */
export function table(rows: readonly (readonly string[])[], rightAlign?: readonly boolean[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        const right = rightAlign ? rightAlign[i] === true : i > 0;
        return right ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}
