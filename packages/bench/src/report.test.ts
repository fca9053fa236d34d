import { describe, expect, it } from 'vitest';
import { captureConditions } from './conditions.js';
import { DEFAULT_OPTIONS } from './options.js';
import { computeRatios, formatNumber, membersCpuMsPerOp, ratio, renderReport, table } from './report.js';
import type { SuiteReport, TestResult } from './results.js';
import { median, summarizeLatencies } from './stats.js';

function test(name: TestResult['name'], perSecond: number, latencies: number[], extra: Partial<TestResult> = {}): TestResult {
  return {
    name,
    description: `${name} shape`,
    unit: 'writes',
    clients: 1,
    conns: 1,
    requested: latencies.length,
    sent: latencies.length,
    completed: latencies.length,
    failed: 0,
    errors: {},
    anomalies: { count: 0, samples: [] },
    elapsedMs: 1000,
    perSecond,
    latency: summarizeLatencies(latencies),
    stoppedBy: 'count',
    ...extra,
  };
}

/** A start time `seconds` after the epoch, as a test's startedAt. */
const at = (seconds: number): string => new Date(seconds * 1000).toISOString();

function suite(kind: 'k8ts' | 'etcd', tests: TestResult[], problems: string[] = []): SuiteReport {
  return {
    target: { kind, endpoints: ['127.0.0.1:1'], targetMode: 'all', usedEndpoints: ['127.0.0.1:1'], members: ['127.0.0.1:1: version 3.4'] },
    warmup: { puts: 10, failed: 0, errors: {} },
    tests,
    problems,
    memberLogWarnings: { m1: ['{"level":50,"msg":"disk slow"}'] },
  };
}

describe('ratios', () => {
  it('are k8ts ÷ etcd per test both ran, NaN where etcd has no figure', () => {
    const k8ts = suite('k8ts', [test('put-sequential', 50, [2, 4]), test('watch', 10, [1])]);
    const etcd = suite('etcd', [test('put-sequential', 200, [1, 1])]);
    const ratios = computeRatios(k8ts, etcd);
    expect(ratios).toHaveLength(1);
    expect(ratios[0]).toMatchObject({ name: 'put-sequential', perSecond: 0.25, p50Ms: 2, p999Ms: 4 });
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(Number.NaN, 1)).toBeNaN();
  });

  it('pair each round with the same round of the other run', () => {
    const k8ts = suite('k8ts', [test('put-sequential', 100, [1], { round: 1 }), test('put-sequential', 300, [1], { round: 2 })]);
    const etcd = suite('etcd', [test('put-sequential', 200, [1], { round: 1 }), test('put-sequential', 400, [1], { round: 2 })]);
    expect(computeRatios(k8ts, etcd).map((entry) => [entry.round, entry.perSecond])).toEqual([
      [1, 0.5],
      [2, 0.75],
    ]);
  });
});

describe('summaries', () => {
  it('take the median of finite values, the mean of the middle two for an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('give the members\' CPU per operation from their share of a core over the test', () => {
    expect(membersCpuMsPerOp(test('put-sequential', 500, [1, 1], { elapsedMs: 2000, completed: 1000, cpu: { loadGeneratorPercent: 10, membersPercent: 150 } }))).toBe(3);
    expect(membersCpuMsPerOp(test('put-sequential', 500, [1, 1]))).toBeNaN();
  });
});

describe('formatting', () => {
  it('prints three significant figures without exponents, and - for no figure', () => {
    expect(formatNumber(0.01234)).toBe('0.012');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(1234.5)).toBe('1235');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(Number.NaN)).toBe('-');
  });

  it('pads table columns, text left and numbers right', () => {
    expect(table([['a', 'n'], ['long', '10']])).toEqual(['a      n', 'long  10']);
  });

  it('renders conditions, both runs side by side, and problems with the members\' warnings', () => {
    const k8ts = suite('k8ts', [test('put-sequential', 50, [2, 4], { failed: 1, errors: { 'code 4: deadline exceeded': 1 }, startedAt: at(1) })], ['member m2 exited']);
    const etcd = suite('etcd', [test('put-sequential', 200, [1, 1], { startedAt: at(2) })]);
    const text = renderReport({ conditions: captureConditions(DEFAULT_OPTIONS, new Date(0)), runs: [k8ts, etcd], ratios: computeRatios(k8ts, etcd) });
    expect(text).toMatch(/machine: +\d+ cores/);
    expect(text).toMatch(/8-byte keys .* 256-byte values/);
    expect(text).toMatch(/put-sequential +1 +0\.250 +/);
    expect(text).toMatch(/\n +1 +k8ts +50\.0 +200 +0\.250 /);
    expect(text).toMatch(/ERROR ×1: code 4: deadline exceeded/);
    expect(text).toMatch(/PROBLEM: member m2 exited/);
    expect(text).toMatch(/m1 log warnings/);
  });

  it('summarise rounds as the median ratio with its range, and label who ran first by the start times', () => {
    const rounds = (kind: 'k8ts' | 'etcd', rates: number[], starts: number[]): SuiteReport =>
      suite(kind, rates.map((rate, i) => test('put-concurrent', rate, [1, 2], { round: i + 1, startedAt: at(starts[i] ?? 0) })));
    const k8ts = rounds('k8ts', [90, 120, 100], [1, 4, 5]);
    const etcd = rounds('etcd', [100, 100, 100], [2, 3, 6]);
    const text = renderReport({ conditions: captureConditions(DEFAULT_OPTIONS, new Date(0)), runs: [k8ts, etcd], ratios: computeRatios(k8ts, etcd) });
    expect(text).toMatch(/put-concurrent +3 +1\.00 \(0\.900–1\.20\)/);
    expect(text).toMatch(/\n +1 +k8ts +90\.0 +100 +0\.900 /);
    expect(text).toMatch(/\n +2 +etcd +120 +100 +1\.20 /);
    expect(text).toMatch(/\n +3 +k8ts +100 +100 +1\.00 /);
    expect(text).toMatch(/3 round\(s\) of the tests/);
  });
});
