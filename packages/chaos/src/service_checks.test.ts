import { describe, expect, test } from 'vitest';
import { checkServedByReadyPods, leaderlessIntervals, servingIntervals, type PodReadinessObservation } from './service_checks.js';

const answer = (pod: string, atMs: number) => ({ pod, atMs, doneAtMs: atMs + 5, via: 'node-port via node-1' });

describe('servingIntervals', () => {
  test('opens at the Ready transition and closes when the API has the pod deleting, not ready or gone', () => {
    const observations: PodReadinessObservation[] = [
      { pod: 'a', atMs: 1_200, serving: true, sinceMs: 1_000 },
      { pod: 'a', atMs: 5_300, serving: false, sinceMs: 5_000 },
      { pod: 'a', atMs: 8_000, serving: true },
      { pod: 'a', atMs: 9_000, serving: false, gone: true },
      { pod: 'b', atMs: 2_000, serving: false },
      { pod: 'b', atMs: 3_000, serving: true, sinceMs: 2_900 },
    ];
    expect(Object.fromEntries(servingIntervals(observations))).toEqual({
      a: [{ fromMs: 1_000, toMs: 5_000 }, { fromMs: 8_000, toMs: 9_000 }],
      b: [{ fromMs: 2_900 }],
    });
  });
});

describe('checkServedByReadyPods', () => {
  const observations: PodReadinessObservation[] = [
    { pod: 'web-1', atMs: 1_000, serving: true, sinceMs: 900 },
    { pod: 'web-1', atMs: 10_100, serving: false, sinceMs: 10_000 },
    { pod: 'web-2', atMs: 1_000, serving: false },
    { pod: 'web-2', atMs: 4_000, serving: true, sinceMs: 4_000 },
  ];

  test('passes answers from pods while ready, and within the allowance after they stopped', () => {
    const verdict = checkServedByReadyPods([answer('web-1', 2_000), answer('web-1', 11_500), answer('web-2', 4_001), answer('web-2', 30_000)], observations, [], 2_000);
    expect(verdict).toMatchObject({ ok: true, detail: '4 answers from 2 pods, each ready when it answered; the latest came 1.5 s after the news that its pod stopped being ready could reach its node (web-1, not ready at 10.0 s, answering node-port via node-1 at 11.5 s)' });
  });

  test('objects to an answer long after the pod stopped being ready, before it was ready, or from a pod never seen', () => {
    const verdict = checkServedByReadyPods([answer('web-1', 12_500), answer('web-2', 2_000), answer('other-9', 3_000)], observations, [], 2_000);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toContain('3 of 3 answers from pods not ready');
    expect(verdict.detail).toContain('web-1 answered (node-port via node-1) at 12.5 s, 2.5 s after it stopped being ready at 10.0 s');
    expect(verdict.detail).toContain('web-2 answered (node-port via node-1) at 2.0 s, before the API had it ready');
    expect(verdict.detail).toContain('other-9 answered (node-port via node-1) at 3.0 s but was never seen in the API');
  });

  test('while no controller-manager leader updates endpoints, the allowance waits for one', () => {
    const late = [answer('web-1', 20_000)];
    expect(checkServedByReadyPods(late, observations, [{ fromMs: 9_000, toMs: 19_000 }], 2_000).ok).toBe(true);
    expect(checkServedByReadyPods(late, observations, [{ fromMs: 9_000, toMs: 17_000 }], 2_000).ok).toBe(false);
    // A gap long before the pod stopped excuses nothing.
    expect(checkServedByReadyPods(late, observations, [{ fromMs: 1_000, toMs: 5_000 }], 2_000).ok).toBe(false);
  });

  test('a node cut off (or its agent down) waits for the news only for the requests it forwards', () => {
    const cut = [{ fromMs: 9_500, toMs: 19_000, node: 'node-2' }];
    expect(checkServedByReadyPods([{ ...answer('web-1', 20_000), node: 'node-2' }], observations, cut, 2_000).ok).toBe(true);
    expect(checkServedByReadyPods([{ ...answer('web-1', 20_000), node: 'node-1' }], observations, cut, 2_000).ok).toBe(false);
  });
});

describe('leaderlessIntervals', () => {
  test('spans from the last sample with a leader to the next one with a leader', () => {
    const role = 'controller-manager-leader';
    const at = (atMs: number, leader?: string) => ({ atMs, leaders: { [role]: leader } });
    expect(leaderlessIntervals([at(0, 'cm-1'), at(500), at(1_000), at(1_500, 'cm-2'), at(2_000, 'cm-2'), at(2_500), at(3_000)], role)).toEqual([
      { fromMs: 0, toMs: 1_500 },
      { fromMs: 2_000, toMs: 3_000 },
    ]);
  });
});
