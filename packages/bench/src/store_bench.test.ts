import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, type StoreBenchOptions } from './options.js';
import { hasTrouble, runStoreBench } from './store_bench.js';

const options: StoreBenchOptions = {
  ...DEFAULT_OPTIONS,
  tests: ['put-sequential', 'range-serializable'],
  rounds: 2,
  warmupPuts: 20,
  sequentialTotal: 20,
  rangeTotal: 40,
  clients: 4,
  conns: 2,
  keySpaceSize: 50,
};

describe('k8ts bench store --vs-etcd, on real k8ts-store and etcd members', () => {
  it('runs each test on both clusters in turn, the first alternating between rounds', async () => {
    const report = await runStoreBench({ kind: 'vs-etcd', members: 1 }, options, pino({ level: 'silent' }));
    const trouble = report.runs.map((run) => ({ kind: run.target.kind, problems: run.problems, warmup: run.warmup, tests: run.tests.map((test) => [test.name, test.round, test.failed, test.errors, test.anomalies.samples]) }));
    expect(hasTrouble(report), JSON.stringify(trouble)).toBe(false);
    const [k8ts, etcd] = report.runs;
    expect(k8ts?.target.kind).toBe('k8ts');
    expect(etcd?.target.kind).toBe('etcd');
    const ran = report.runs
      .flatMap((run) => run.tests.map((test) => ({ at: test.startedAt ?? '', label: `${run.target.kind} ${test.name} ${test.round}` })))
      .sort((a, b) => a.at.localeCompare(b.at))
      .map((entry) => entry.label);
    expect(ran).toEqual([
      'k8ts put-sequential 1',
      'etcd put-sequential 1',
      'k8ts range-serializable 1',
      'etcd range-serializable 1',
      'etcd put-sequential 2',
      'k8ts put-sequential 2',
      'etcd range-serializable 2',
      'k8ts range-serializable 2',
    ]);
    expect(report.ratios?.map((entry) => `${entry.name} ${entry.round}`)).toEqual([
      'put-sequential 1',
      'range-serializable 1',
      'put-sequential 2',
      'range-serializable 2',
    ]);
    for (const test of [...(k8ts?.tests ?? []), ...(etcd?.tests ?? [])]) {
      expect(test.completed).toBe(test.requested);
      // Measured for every test (a test this small may cost its member under one 10 ms tick of /proc).
      expect(test.cpu?.membersPercent).toBeGreaterThanOrEqual(0);
    }
  }, 120_000);
});
