import type { Operation } from '@k8ts/linearizability';
import { describe, expect, test } from 'vitest';
import { analyseFaults, percentile, summariseByKind } from './analysis.js';
import { buildReport, formatText } from './report.js';
import { renderHtml } from './report_html.js';
import type { FaultRecord, HealthSample, RunRecord } from './timeline.js';

/**
 * A recorded run of 40 s: an apiserver killed at 10 s and restarted at 14 s (Service requests fail
 * from 10.1 s to 10.5 s, the process is down until 15 s); the scheduler leader killed at 25 s and
 * restarted at 27 s (the other replica takes over at 26 s; nothing else notices).
 */
function recordedRun(): RunRecord {
  const samples: HealthSample[] = [];
  for (let atMs = 0; atMs < 40_000; atMs += 500) {
    const apiserverDown = atMs >= 10_000 && atMs < 15_000;
    const schedulerDown = atMs >= 25_000 && atMs < 27_500;
    samples.push({
      atMs,
      processesUp: apiserverDown || schedulerDown ? 10 : 11,
      processesTotal: 11,
      nodesReady: 2,
      nodesTotal: 2,
      desired: 2,
      ready: 2,
      leaders: {
        'store-leader': 'store-1',
        'scheduler-leader': atMs < 25_000 ? 'scheduler-1' : atMs < 26_000 ? undefined : 'scheduler-2',
        'controller-manager-leader': 'controller-manager-1',
      },
    });
  }
  const probes = [];
  for (let atMs = 0; atMs < 40_000; atMs += 100) probes.push({ atMs, doneAtMs: atMs + 20, ok: !(atMs >= 10_100 && atMs <= 10_500), node: 'node-1' });
  const history: Operation[] = [];
  for (let atMs = 0; atMs < 40_000; atMs += 200) history.push({ kind: 'write', client: 0, key: 'r', value: `v${atMs}`, invokedAt: atMs, completedAt: atMs + 5, outcome: 'ok' });
  return {
    target: 'test',
    seed: 1,
    durationMs: 40_000,
    schedule: [],
    faults: [
      { kind: 'kill-apiserver', target: 'apiserver-1', part: 'apiserver-1', injectedAtMs: 10_000, healedAtMs: 14_000 },
      { kind: 'kill-scheduler-leader', target: 'scheduler-leader', part: 'scheduler-1', injectedAtMs: 25_000, healedAtMs: 27_000 },
    ],
    samples,
    probes,
    history,
    scales: [],
    endMs: 40_000,
    checks: [{ name: 'every process up at the end', ok: true, detail: '11 processes running' }],
  };
}

describe('analyseFaults', () => {
  test('detection is the first symptom after the fault; recovery the first whole sample after the heal', () => {
    const [apiserver, scheduler] = analyseFaults(recordedRun());
    expect(apiserver).toMatchObject({ detectionMs: 120, detectedBy: 'Service request to node-1 failed (error)', recoveryMs: 1_000, requestsFailed: 5 });
    expect(scheduler).toMatchObject({ detectionMs: 1_000, detectedBy: 'scheduler-leader moved from scheduler-1 to scheduler-2', recoveryMs: 500, requestsFailed: 0 });
  });

  test("a failure seen only after the next fault began is neither fault's symptom", () => {
    const run = recordedRun();
    const late: Operation = { kind: 'write', client: 1, key: 'r', value: 'late', invokedAt: 24_500, completedAt: 25_500, outcome: 'unknown' };
    const [apiserver, scheduler] = analyseFaults({ ...run, probes: run.probes.map((probe) => ({ ...probe, ok: true })), history: [...run.history, late] });
    expect(apiserver?.detectionMs).toBeUndefined();
    expect(apiserver?.requestsFailed).toBe(1); // it was sent during this fault's window all the same
    expect(scheduler?.detectedBy).toBe('scheduler-leader moved from scheduler-1 to scheduler-2');
  });

  test('a fault never healed, or not whole again before the next one, has no recovery time', () => {
    const run = recordedRun();
    const unhealed = { ...run, faults: [{ ...run.faults[0], healedAtMs: undefined, error: 'not healed: boom' } as never] };
    expect(analyseFaults(unhealed)[0]?.recoveryMs).toBeUndefined();
    const broken = { ...run, samples: run.samples.map((sample) => (sample.atMs > 10_000 && sample.atMs < 25_000 ? { ...sample, ready: 1 } : sample)) };
    expect(analyseFaults(broken)[0]?.recoveryMs).toBeUndefined();
    expect(analyseFaults(broken)[0]?.notRecoveredBecause).toBe('1/2 replicas ready');
  });

  test('without a leader the cluster is not whole', () => {
    const run = recordedRun();
    const leaderless = { ...run, samples: run.samples.map((sample) => (sample.atMs >= 25_000 && sample.atMs < 30_000 ? { ...sample, leaders: { ...sample.leaders, 'scheduler-leader': undefined } } : sample)) };
    expect(analyseFaults(leaderless)[1]).toMatchObject({ recoveryMs: 3_000 });
  });

  test('per kind: nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 99)).toBe(5);
    expect(percentile([], 50)).toBeUndefined();
    expect(summariseByKind(analyseFaults(recordedRun()))).toEqual([
      { kind: 'kill-apiserver', faults: 1, recovered: 1, detectionP50Ms: 120, detectionP99Ms: 120, recoveryP50Ms: 1_000, recoveryP99Ms: 1_000, requestsFailed: 5 },
      { kind: 'kill-scheduler-leader', faults: 1, recovered: 1, detectionP50Ms: 1_000, detectionP99Ms: 1_000, recoveryP50Ms: 500, recoveryP99Ms: 500, requestsFailed: 0 },
    ]);
  });
});

describe('reports', () => {
  test('text: each fault, per kind, requests and checks with the verdict', () => {
    const text = formatText(buildReport(recordedRun()));
    expect(text).toMatch(/kill-apiserver\s+apiserver-1\s+0\.12 s\s+1\.00 s\s+5\/225/);
    expect(text).toMatch(/requests: Service 5\/400 failed/);
    expect(text).toMatch(/PASS {2}every process up at the end/);
    expect(text).toMatch(/verdict: PASS$/);
  });

  test('a fault that could not be healed fails the run', () => {
    const run = recordedRun();
    const report = buildReport({ ...run, faults: [{ ...(run.faults[0] as FaultRecord), error: 'not healed: no such process' }] });
    expect(report.ok).toBe(false);
    expect(report.checks.at(-1)).toMatchObject({ name: 'every fault put in place and healed', ok: false });
  });

  test('HTML: an inline SVG timeline with the faults, and the checks', () => {
    const run = recordedRun();
    const html = renderHtml(run, buildReport(run));
    expect(html).toMatch(/<svg [^>]*>.*<rect [^>]*fill="#c0392b"><title>kill-apiserver apiserver-1 10\.0–14\.0 s<\/title><\/rect>/s);
    expect(html).toContain('<td class="pass">PASS</td><td>every process up at the end</td>');
  });
});
