import { describe, expect, it } from 'vitest';
import { parseCheckPerf, renderCheckPerfReport, type CheckPerfReport } from './checkperf_bench.js';
import { captureMachine } from './conditions.js';

// etcdctl 3.4's output, progress bar (redrawn with carriage returns) included, as printed here.
const failed = ' 0 / 60    0.00% 0 / 60    0.00%\r 59 / 60   98.33%\r 60 / 60  100.00% 1m0s\nFAIL: Throughput too low: 2230 writes/s\nSlowest request took too long: 1.376631s\nStddev too high: 0.133216s\nFAIL\n';
const passed = '60 / 60 100.00% 1m0s\nPASS: Throughput is 987 writes/s\nPASS: Slowest request took 0.049364s\nPASS: Stddev is 0.002713s\nPASS\n';

describe('etcdctl check perf output', () => {
  it('is read into its three figures and verdicts', () => {
    expect(parseCheckPerf(failed)).toEqual({
      writesPerSecond: 2230,
      slowestSeconds: 1.376631,
      stddevSeconds: 0.133216,
      throughputPassed: false,
      slowestPassed: false,
      stddevPassed: false,
      passed: false,
    });
    expect(parseCheckPerf(passed)).toMatchObject({ writesPerSecond: 987, slowestSeconds: 0.049364, stddevSeconds: 0.002713, throughputPassed: true, slowestPassed: true, stddevPassed: true, passed: true });
    expect(parseCheckPerf('PASS: Throughput is 7300 writes/s\nSlowest request took too long: 0.6s\nPASS: Stddev is 0.09s\nFAIL')).toMatchObject({ throughputPassed: true, slowestPassed: false, passed: false });
  });

  it('without a verdict is an error, not a figure', () => {
    expect(() => parseCheckPerf('Error: context deadline exceeded')).toThrow(/no throughput line/);
    expect(() => parseCheckPerf(failed.replace(/\nFAIL\n$/, '\n'))).toThrow(/no PASS or FAIL/);
  });

  it('reports each run side by side and the median ratio', () => {
    const verdict = (writesPerSecond: number, slowestSeconds: number) => ({ ...parseCheckPerf(failed), writesPerSecond, slowestSeconds });
    const report: CheckPerfReport = {
      conditions: { ...captureMachine(new Date(0), 'etcdctl'), load: 'l', runs: 2, members: 3 },
      runs: [
        { kind: 'k8ts', run: 1, verdict: verdict(2000, 1.5), membersCpuPercent: 140, seconds: 70 },
        { kind: 'etcd', run: 1, verdict: verdict(2500, 0.75), membersCpuPercent: 141, seconds: 70 },
        { kind: 'etcd', run: 2, verdict: verdict(2000, 1), membersCpuPercent: 139, seconds: 70 },
        { kind: 'k8ts', run: 2, problem: 'no leader', seconds: 30 },
      ],
    };
    const text = renderCheckPerfReport(report);
    expect(text).toMatch(/\n +1 +k8ts +2000 +2500 +0\.800 +1\.50 +0\.750 /);
    expect(text).toMatch(/\n +2 +etcd +- +2000 +- /);
    expect(text).toMatch(/median k8ts\/etcd \(min–max\): throughput 0\.800; slowest request 2\.00$/m);
    expect(text).toMatch(/PROBLEM: k8ts run 2: no leader/);
  });
});
