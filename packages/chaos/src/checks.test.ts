import type { Operation } from '@k8ts/linearizability';
import { describe, expect, test } from 'vitest';
import { checkDeploymentRecovered, checkLinearizable, checkNoLostWrites, checkNoPodTwice, checkProcessesUp } from './checks.js';

const write = (value: string, invokedAt: number, completedAt: number, outcome: 'ok' | 'unknown' | 'fail' = 'ok'): Operation => ({ kind: 'write', client: 1, key: 'r', value, invokedAt, completedAt, outcome });
const read = (value: string | null, invokedAt: number, completedAt: number): Operation => ({ kind: 'read', client: 2, key: 'r', value, invokedAt, completedAt, outcome: 'ok' });

describe('checkLinearizable', () => {
  test('passes a history that could happen one operation at a time', () => {
    expect(checkLinearizable([write('a', 0, 10), read('a', 11, 12), write('b', 13, 20), read('b', 21, 22)]).ok).toBe(true);
  });

  test('objects to a stale read after an acknowledged write', () => {
    const verdict = checkLinearizable([write('a', 0, 10), write('b', 11, 20), read('a', 21, 22)]);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toMatch(/"a"/);
  });
});

describe('checkNoLostWrites', () => {
  test('passes when the key ends with the last acknowledged write, or a concurrent or unanswered one', () => {
    expect(checkNoLostWrites([write('a', 0, 10), write('b', 11, 20)], [{ key: 'r', value: 'b', invokedAt: 30 }]).ok).toBe(true);
    // Overlapping writes: either may be last.
    expect(checkNoLostWrites([write('a', 0, 10), write('b', 5, 20)], [{ key: 'r', value: 'a', invokedAt: 30 }]).ok).toBe(true);
    // An unanswered write may take effect late.
    expect(checkNoLostWrites([write('a', 0, 10, 'unknown'), write('b', 11, 20)], [{ key: 'r', value: 'a', invokedAt: 30 }]).ok).toBe(true);
  });

  test('objects when the store went back to an overwritten value', () => {
    const verdict = checkNoLostWrites([write('a', 0, 10), write('b', 11, 20)], [{ key: 'r', value: 'a', invokedAt: 30 }]);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toMatch(/r reads "a" at the end, written by .* which a later acknowledged write overwrote; the last acknowledged write was .*"b"/);
  });

  test('objects when an acknowledged write vanished entirely', () => {
    expect(checkNoLostWrites([write('a', 0, 10)], [{ key: 'r', value: null, invokedAt: 30 }])).toMatchObject({ ok: false, detail: expect.stringMatching(/reads absent/) });
  });

  test('objects to a value no write wrote, and ignores writes that surely failed', () => {
    expect(checkNoLostWrites([write('a', 0, 10)], [{ key: 'r', value: 'zz', invokedAt: 30 }])).toMatchObject({ ok: false, detail: expect.stringMatching(/a value no write wrote/) });
    expect(checkNoLostWrites([write('a', 0, 10), write('b', 11, 20, 'fail')], [{ key: 'r', value: 'b', invokedAt: 30 }]).ok).toBe(false);
  });
});

describe('checkDeploymentRecovered', () => {
  const samples = [
    { atMs: 9_000, desired: 3, ready: 1 },
    { atMs: 12_000, desired: 3, ready: 2 },
    { atMs: 25_000, desired: 3, ready: 3 },
  ];

  test('passes when ready replicas reach desired within the bound after the last heal', () => {
    expect(checkDeploymentRecovered(samples, 10_000, 20_000)).toMatchObject({ ok: true, detail: '3/3 ready 15.0 s after the last heal' });
  });

  test('objects when it came back too late, or never', () => {
    expect(checkDeploymentRecovered(samples, 10_000, 10_000)).toMatchObject({ ok: false, detail: 'back only after 15.0 s' });
    expect(checkDeploymentRecovered(samples.slice(0, 2), 10_000, 60_000)).toMatchObject({ ok: false, detail: expect.stringMatching(/never back: last seen 2\/3 ready/) });
  });

  test('a sample before the heal does not count', () => {
    expect(checkDeploymentRecovered([{ atMs: 5_000, desired: 2, ready: 2 }], 10_000, 60_000).ok).toBe(false);
  });
});

describe('checkNoPodTwice', () => {
  test('passes a pod that moved from one node to another between samples', () => {
    const verdict = checkNoPodTwice([
      { atMs: 1_000, pods: [{ node: 'node-1', pod: 'ns/web-0' }] },
      { atMs: 2_000, pods: [{ node: 'node-2', pod: 'ns/web-0' }] },
    ]);
    expect(verdict.ok).toBe(true);
  });

  test('objects to one pod name running on two nodes in the same sample', () => {
    const verdict = checkNoPodTwice([{ atMs: 1_500, pods: [{ node: 'node-2', pod: 'ns/web-0' }, { node: 'node-1', pod: 'ns/web-0' }, { node: 'node-1', pod: 'ns/web-1' }] }]);
    expect(verdict).toMatchObject({ ok: false, detail: 'ns/web-0 running on node-1 and node-2 at 1.5 s' });
  });
});

describe('checkProcessesUp', () => {
  test('objects to a process down at the end, and to knowing none', () => {
    expect(checkProcessesUp([{ name: 'store-1', up: true }, { name: 'apiserver-2', up: false }])).toMatchObject({ ok: false, detail: 'not running: apiserver-2' });
    expect(checkProcessesUp([]).ok).toBe(false);
    expect(checkProcessesUp([{ name: 'store-1', up: true }]).ok).toBe(true);
  });
});

describe('checkDeploymentRecovered with rollouts', () => {
  test('a rollout surge (one more ready) counts as back; a rollout not complete does not', () => {
    expect(checkDeploymentRecovered([{ atMs: 12_000, desired: 2, ready: 3, rolledOut: true }], 10_000, 60_000).ok).toBe(true);
    expect(checkDeploymentRecovered([{ atMs: 12_000, desired: 2, ready: 2, rolledOut: false }], 10_000, 60_000)).toMatchObject({ ok: false, detail: expect.stringMatching(/rollout not complete/) });
  });
});
