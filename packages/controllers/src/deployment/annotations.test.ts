import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  appendRevisionHistory,
  maxRevision,
  setNewReplicaSetAnnotations,
} from './annotations.js';

function deployment(annotations: Record<string, string> = {}): Deployment {
  return {
    metadata: { name: 'web', annotations },
    spec: { replicas: 10, selector: {}, template: {}, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } },
  };
}

function replicaSet(annotations?: Record<string, string>): ReplicaSet {
  return { metadata: annotations === undefined ? { name: 'rs' } : { name: 'rs', annotations }, spec: { selector: {} } };
}

describe('revision annotations (upstream SetNewReplicaSetAnnotations)', () => {
  test('a new ReplicaSet gets the next revision, the desired and max replicas, and the Deployment annotations but the skipped ones', () => {
    const rs = replicaSet();
    const d = deployment({ 'kubernetes.io/change-cause': 'image bump', [REVISION_ANNOTATION]: '7', 'kubectl.kubernetes.io/last-applied-configuration': '{}' });
    expect(setNewReplicaSetAnnotations(d, rs, 3, false)).toBe(true);
    expect(rs.metadata?.annotations).toEqual({
      'kubernetes.io/change-cause': 'image bump',
      [REVISION_ANNOTATION]: '3',
      [DESIRED_REPLICAS_ANNOTATION]: '10',
      [MAX_REPLICAS_ANNOTATION]: '13',
    });
  });

  test('a ReplicaSet brought back (rollback) takes the new revision and keeps its old one in the history', () => {
    const rs = replicaSet({ [REVISION_ANNOTATION]: '1' });
    expect(setNewReplicaSetAnnotations(deployment(), rs, 3, true)).toBe(true);
    expect(rs.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('3');
    expect(rs.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION]).toBe('1');
    // Brought back once more: the history grows.
    expect(setNewReplicaSetAnnotations(deployment(), rs, 5, true)).toBe(true);
    expect(rs.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION]).toBe('1,3');
  });

  test('an existing ReplicaSet already at the highest revision is left alone (no replicas annotations either)', () => {
    const rs = replicaSet({ [REVISION_ANNOTATION]: '4' });
    expect(setNewReplicaSetAnnotations(deployment(), rs, 4, true)).toBe(false);
    expect(setNewReplicaSetAnnotations(deployment(), rs, 2, true)).toBe(false);
    expect(rs.metadata?.annotations).toEqual({ [REVISION_ANNOTATION]: '4' });
  });

  test('an unreadable revision is not overwritten', () => {
    const rs = replicaSet({ [REVISION_ANNOTATION]: 'x' });
    expect(setNewReplicaSetAnnotations(deployment(), rs, 2, true)).toBe(false);
    expect(rs.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('x');
  });

  test('the revision history drops its oldest entries to stay within the limit', () => {
    expect(appendRevisionHistory('', '1', 10)).toBe('1');
    expect(appendRevisionHistory('1,2,3', '4', 7)).toBe('1,2,3,4');
    expect(appendRevisionHistory('1,2,3', '40', 7)).toBe('2,3,40');
    expect(appendRevisionHistory('1', '123456789', 5)).toBeUndefined();
  });

  test('the highest revision skips unreadable ones', () => {
    expect(maxRevision([replicaSet({ [REVISION_ANNOTATION]: '2' }), replicaSet({ [REVISION_ANNOTATION]: 'x' }), replicaSet({ [REVISION_ANNOTATION]: '10' }), replicaSet()])).toBe(10);
    expect(maxRevision([])).toBe(0);
  });
});
