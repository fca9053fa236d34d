import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { BudgetSyncError, DELETION_TIMEOUT_MS, STALE_POD_DISRUPTION_TIMEOUT_MS, computeBudgetStatus, failSafeStatus, staleDisruptionInMs, statusUnchanged, type BudgetObject } from './status.js';

const NOW = Date.parse('2026-01-02T03:04:05Z');
const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-rs', uid: 'rs-uid', controller: true };

function pod(name: string, options: { ready?: boolean; deleting?: boolean; owned?: boolean } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'web' },
      ...(options.owned === false ? {} : { ownerReferences: [owner] }),
      ...(options.deleting ? { deletionTimestamp: '2026-01-02T03:00:00Z' } : {}),
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] },
  };
}

function budget(spec: BudgetObject['spec'], status?: BudgetObject['status']): BudgetObject {
  return {
    metadata: { name: 'web', namespace: 'default', generation: 2 },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    ...(status === undefined ? {} : { status }),
  } as BudgetObject;
}

const scaleOf = (replicas: number | undefined) => () => replicas;

describe('computeBudgetStatus', () => {
  test('minAvailable as an integer: expected is the pods, healthy the ready ones not being deleted', () => {
    const pods = [pod('a'), pod('b'), pod('c', { ready: false }), pod('d', { deleting: true })];
    const { status } = computeBudgetStatus(budget({ minAvailable: 1 }), pods, scaleOf(undefined), NOW);
    expect(status).toMatchObject({ expectedPods: 4, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1, observedGeneration: 2 });
    expect(status.conditions).toEqual([
      { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: '2026-01-02T03:04:05Z' },
    ]);
  });

  test('maxUnavailable and percentages use the controllers\' scale, percentages rounded up', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    expect(computeBudgetStatus(budget({ maxUnavailable: 1 }), pods, scaleOf(5), NOW).status).toMatchObject({ expectedPods: 5, desiredHealthy: 4, currentHealthy: 3, disruptionsAllowed: 0 });
    expect(computeBudgetStatus(budget({ maxUnavailable: '50%' }), pods, scaleOf(3), NOW).status).toMatchObject({ expectedPods: 3, desiredHealthy: 1, disruptionsAllowed: 2 });
    expect(computeBudgetStatus(budget({ minAvailable: '50%' }), pods, scaleOf(3), NOW).status).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    const none = computeBudgetStatus(budget({ maxUnavailable: 1 }), pods, scaleOf(3), NOW).status;
    expect(none.conditions?.[0]).toMatchObject({ status: 'True', reason: 'SufficientPods' });
  });

  test('no disruption allowed: InsufficientPods; an unknown controller fails the sync; pods with none are unmanaged', () => {
    const tight = computeBudgetStatus(budget({ minAvailable: 3 }), [pod('a'), pod('b')], scaleOf(undefined), NOW).status;
    expect(tight).toMatchObject({ disruptionsAllowed: 0 });
    expect(tight.conditions?.[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
    expect(() => computeBudgetStatus(budget({ maxUnavailable: 1 }), [pod('a')], scaleOf(undefined), NOW)).toThrow(BudgetSyncError);
    expect(() => computeBudgetStatus(budget({ maxUnavailable: 1 }), [pod('a')], scaleOf(undefined), NOW)).toThrow('found no controllers for pod "a"');
    const orphan = computeBudgetStatus(budget({ maxUnavailable: 1 }), [pod('a', { owned: false })], scaleOf(undefined), NOW);
    expect(orphan.unmanagedPods).toEqual(['a']);
    expect(orphan.status.expectedPods).toBe(0);
  });

  test('evicted pods stay out of the healthy count until deleted, or until the timeout forgets them', () => {
    const recent = new Date(NOW - 30_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const old = new Date(NOW - DELETION_TIMEOUT_MS - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const status = { currentHealthy: 3, desiredHealthy: 1, expectedPods: 3, disruptionsAllowed: 0, disruptedPods: { a: recent, b: old, gone: recent } };
    const result = computeBudgetStatus(budget({ minAvailable: 1 }, status), [pod('a'), pod('b'), pod('c')], scaleOf(undefined), NOW);
    expect(result.status.disruptedPods).toEqual({ a: recent });
    expect(result.status).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 1 });
    expect(result.notDeleted).toEqual(['b']);
    expect(result.recheckAtMs).toBe(Date.parse(recent) + DELETION_TIMEOUT_MS);
    const deleting = computeBudgetStatus(budget({ minAvailable: 1 }, status), [pod('a', { deleting: true }), pod('c')], scaleOf(undefined), NOW);
    expect(deleting.status.disruptedPods).toBeUndefined();
  });

  test('the fail-safe status allows nothing and says why; an unchanged status is not written', () => {
    const current = budget({ minAvailable: 1 }, { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1, observedGeneration: 2 });
    const failed = failSafeStatus(current, 'found no controllers for pod "a"', NOW);
    expect(failed.disruptionsAllowed).toBe(0);
    expect(failed.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "a"' });
    const computed = computeBudgetStatus(current, [pod('a'), pod('b')], scaleOf(undefined), NOW).status;
    expect(statusUnchanged({ ...current, status: computed }, computed)).toBe(true);
    expect(statusUnchanged(current, computed)).toBe(false);
  });
});

describe('staleDisruptionInMs', () => {
  test('counts from the DisruptionTarget condition of a pod not being deleted', () => {
    const marked = (status: string, deleting = false): Pod => ({
      metadata: { name: 'a', ...(deleting ? { deletionTimestamp: '2026-01-02T03:04:00Z' } : {}) },
      status: { conditions: [{ type: 'DisruptionTarget', status, lastTransitionTime: '2026-01-02T03:04:05Z' }] },
    });
    expect(staleDisruptionInMs(marked('True'), NOW + 1000)).toBe(STALE_POD_DISRUPTION_TIMEOUT_MS - 1000);
    expect(staleDisruptionInMs(marked('True'), NOW + STALE_POD_DISRUPTION_TIMEOUT_MS + 1)).toBe(-1);
    expect(staleDisruptionInMs(marked('False'), NOW)).toBeUndefined();
    expect(staleDisruptionInMs(marked('True', true), NOW)).toBeUndefined();
    expect(staleDisruptionInMs(pod('b'), NOW)).toBeUndefined();
  });
});
