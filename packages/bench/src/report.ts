import type { KneeResult } from './watch_knee.js';
import type { Conditions, StoreBenchReport, SuiteReport, TestRatios, TestResult } from './results.js';
import { median, type LatencySummary } from './stats.js';

/** k8ts ÷ etcd for every test and round both runs have (NaN where etcd's figure is 0 or missing). */
export function computeRatios(k8ts: SuiteReport, etcd: SuiteReport): TestRatios[] {
  return pairedTests(k8ts, etcd).map(([ours, theirs]) => ({
    name: ours.name,
    ...(ours.round === undefined ? {} : { round: ours.round }),
    perSecond: ratio(ours.perSecond, theirs.perSecond),
    p50Ms: ratio(ours.latency.p50Ms, theirs.latency.p50Ms),
    p90Ms: ratio(ours.latency.p90Ms, theirs.latency.p90Ms),
    p99Ms: ratio(ours.latency.p99Ms, theirs.latency.p99Ms),
    p999Ms: ratio(ours.latency.p999Ms, theirs.latency.p999Ms),
  }));
}

/** Each k8ts test with etcd's run of the same test in the same round, in k8ts's order. */
function pairedTests(k8ts: SuiteReport, etcd: SuiteReport): [TestResult, TestResult][] {
  return k8ts.tests.flatMap((ours) => {
    const theirs = etcd.tests.find((test) => test.name === ours.name && test.round === ours.round);
    return theirs === undefined ? [] : [[ours, theirs] as [TestResult, TestResult]];
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
    `bounds:   ${conditions.warmupPuts} unmeasured warm-up puts and ${Math.ceil(conditions.warmupPuts / 4)} reads of each kind; ${conditions.rounds} round(s) of the tests; each test stops at its count or after ${conditions.maxSecondsPerTest} s; request deadline ${conditions.requestTimeoutMs} ms; no retries`,
    `started:  ${conditions.startedAt}`,
  ];
}

function renderTarget(run: SuiteReport): string[] {
  const target = run.target;
  const lines = [`target: ${target.kind}${target.startedWith ? ` — ${target.startedWith}` : ''}`];
  if (target.dataDirFilesystem) lines.push(`  data dirs on ${target.dataDirFilesystem}`);
  lines.push(...target.members.map((member) => `  ${member}`));
  lines.push(`  clients on: ${target.targetMode === 'leader' ? `the leader only (${target.usedEndpoints.join(',')})` : `every endpoint, round robin by connection, followers first (${target.usedEndpoints.join(',')})`}`);
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
  const header = ['test', 'round', 'rate', ...LATENCY_COLUMNS.map(([label]) => `${label} ms`), 'ok/sent', 'failed', 'stop'];
  const rows = run.tests.map((test) => [
    test.name,
    String(test.round ?? 1),
    `${formatNumber(test.perSecond)} ${test.unit}/s`,
    ...LATENCY_COLUMNS.map(([, field]) => formatNumber(test.latency[field])),
    `${test.completed}/${test.sent}`,
    String(test.failed),
    test.stoppedBy,
  ]);
  const details = run.tests.flatMap((test, i) => (run.tests.findIndex((other) => other.name === test.name) === i ? renderDetails(test, run.tests) : []));
  return [...renderTarget(run), '', ...table([header, ...rows]).map((line) => `  ${line}`), '', ...details, ...renderProblems(run)];
}

/** A test's shape once, then what each of its rounds adds: watch figures, knee steps, CPU, errors, anomalies. */
function renderDetails(first: TestResult, all: readonly TestResult[]): string[] {
  const rounds = all.filter((test) => test.name === first.name);
  return [`  ${first.name}: ${first.description}`, ...rounds.flatMap((test) => renderRound(test, rounds.length > 1))];
}

function renderRound(test: TestResult, labelled: boolean): string[] {
  const lines: string[] = labelled ? [`   round ${test.round ?? 1}:`] : [];
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

/** The members' CPU per operation of a test, in ms (NaN when the run did not start the members). */
export function membersCpuMsPerOp(test: TestResult): number {
  const percent = test.cpu?.membersPercent;
  return percent === undefined || test.completed === 0 ? Number.NaN : ((percent / 100) * test.elapsedMs) / test.completed;
}

/** "median (min–max)" of finite ratios (the range left out for one value; "-" for none). */
export function spread(values: readonly number[]): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '-';
  const range = finite.length > 1 ? ` (${formatNumber(Math.min(...finite))}–${formatNumber(Math.max(...finite))})` : '';
  return `${formatNumber(median(finite))}${range}`;
}

/**
 * --vs-etcd: a summary of k8ts/etcd per test over the rounds (median, min–max), then each test's
 * rounds side by side: who ran first, throughput, p50 and p99, and the members' CPU per operation
 * (the steadier figure on a shared machine).
 */
export function renderComparison(k8ts: SuiteReport, etcd: SuiteReport): string[] {
  const paired = pairedTests(k8ts, etcd);
  const names = [...new Set(paired.map(([ours]) => ours.name))];
  const summary: string[][] = [['test', 'rounds', 'rate k8ts/etcd', 'p99 k8ts/etcd', 'members\' CPU per op k8ts/etcd']];
  const sections: string[] = [];
  for (const name of names) {
    const both = paired.filter(([ours]) => ours.name === name);
    const first = both[0];
    if (first === undefined) continue;
    summary.push([
      name,
      String(both.length),
      spread(both.map(([ours, theirs]) => ratio(ours.perSecond, theirs.perSecond))),
      spread(both.map(([ours, theirs]) => ratio(ours.latency.p99Ms, theirs.latency.p99Ms))),
      spread(both.map(([ours, theirs]) => ratio(membersCpuMsPerOp(ours), membersCpuMsPerOp(theirs)))),
    ]);
    const unit = first[0].unit.replace(/s$/, '');
    const rows: string[][] = [
      ['round', 'first', `k8ts ${unit}s/s`, `etcd ${unit}s/s`, 'k8ts/etcd', 'k8ts p50 ms', 'etcd p50 ms', 'k8ts p99 ms', 'etcd p99 ms', 'k8ts/etcd', `k8ts CPU ms/${unit}`, `etcd CPU ms/${unit}`],
      ...both.map(([ours, theirs]) => [
        String(ours.round ?? 1),
        firstToRun(ours, theirs),
        formatNumber(ours.perSecond),
        formatNumber(theirs.perSecond),
        formatNumber(ratio(ours.perSecond, theirs.perSecond)),
        formatNumber(ours.latency.p50Ms),
        formatNumber(theirs.latency.p50Ms),
        formatNumber(ours.latency.p99Ms),
        formatNumber(theirs.latency.p99Ms),
        formatNumber(ratio(ours.latency.p99Ms, theirs.latency.p99Ms)),
        formatNumber(membersCpuMsPerOp(ours)),
        formatNumber(membersCpuMsPerOp(theirs)),
      ]),
    ];
    sections.push(`${name}: ${first[0].description}`, ...table(rows).map((line) => `  ${line}`), '');
  }
  return [...table(summary, [false, true, true, true, true]).map((line) => `  ${line}`), '', ...sections];
}

/** Which of the pair started first, by their start times (a report without them: unknown). */
function firstToRun(ours: TestResult, theirs: TestResult): string {
  if (ours.startedAt === undefined || theirs.startedAt === undefined) return '?';
  return ours.startedAt <= theirs.startedAt ? 'k8ts' : 'etcd';
}

export function renderReport(report: StoreBenchReport): string {
  const lines = ['k8ts bench store: load on the etcd v3 gRPC API', '', ...renderConditions(report.conditions), ''];
  const [k8ts, etcd] = report.runs;
  if (report.ratios && k8ts && etcd) {
    lines.push(
      '== side by side: every test on both clusters in turn, round by round (throughput ratio above 1: k8ts faster; latency and CPU ratios above 1: k8ts slower) ==',
      '',
    );
    lines.push(...renderComparison(k8ts, etcd));
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
