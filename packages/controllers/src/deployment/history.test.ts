import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import { REVISION_ANNOTATION } from './annotations.js';
import { replicaSetsToDelete } from './history.js';

function replicaSet(name: string, revision: number, replicas = 0, extra: { statusReplicas?: number; generation?: number; observed?: number; deleting?: boolean } = {}): ReplicaSet {
  return {
    metadata: {
      name,
      annotations: { [REVISION_ANNOTATION]: String(revision) },
      generation: extra.generation ?? 1,
      creationTimestamp: '2024-01-01T00:00:00Z',
      ...(extra.deleting ? { deletionTimestamp: '2024-01-01T00:00:01Z' } : {}),
    },
    spec: { replicas, selector: {} },
    status: { replicas: extra.statusReplicas ?? replicas, observedGeneration: extra.observed ?? 1 },
  };
}

const deployment = (limit: number | undefined): Deployment => ({ spec: { selector: {}, template: {}, ...(limit === undefined ? {} : { revisionHistoryLimit: limit }) } });
const names = (replicaSets: ReplicaSet[]): (string | undefined)[] => replicaSets.map((rs) => rs.metadata?.name);

describe('revisionHistoryLimit (upstream cleanupDeployment)', () => {
  test('beyond the limit, the lowest revisions go', () => {
    const olds = [replicaSet('r3', 3), replicaSet('r1', 1), replicaSet('r2', 2), replicaSet('r4', 4)];
    expect(names(replicaSetsToDelete(deployment(2), olds))).toEqual(['r1', 'r2']);
    expect(names(replicaSetsToDelete(deployment(0), olds))).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(replicaSetsToDelete(deployment(4), olds)).toEqual([]);
  });

  test('only truly empty ones: no replicas wanted or seen, latest spec observed', () => {
    const olds = [replicaSet('busy', 1, 1), replicaSet('draining', 2, 0, { statusReplicas: 1 }), replicaSet('unobserved', 3, 0, { generation: 2, observed: 1 }), replicaSet('empty', 4)];
    expect(names(replicaSetsToDelete(deployment(0), olds))).toEqual(['empty']);
  });

  test('ReplicaSets being deleted neither count nor get deleted again; no limit keeps all', () => {
    const olds = [replicaSet('going', 1, 0, { deleting: true }), replicaSet('r2', 2), replicaSet('r3', 3)];
    expect(names(replicaSetsToDelete(deployment(1), olds))).toEqual(['r2']);
    expect(replicaSetsToDelete(deployment(undefined), olds)).toEqual([]);
  });
});
