import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import type { JsonObject } from './json_values.js';
import { recordUpdate, serverSideApply } from './server_side_apply.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';
const T2 = '2026-01-01T00:02:00Z';

function deployment(replicas: number, image = 'nginx:1', extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image }] } },
      ...extra,
    },
  };
}

type Deployment = {
  metadata: { labels?: Record<string, string>; finalizers?: string[]; managedFields?: JsonObject[] };
  spec: { replicas?: number; template: { spec: { containers: { name: string; image?: string }[] } } };
};
const asDeployment = (object: unknown): Deployment => object as Deployment;
const managedFields = (object: unknown): JsonObject[] => asDeployment(object).metadata.managedFields ?? [];

function conflictOf(run: () => unknown): ApiError['status'] {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
  throw new Error('expected a conflict');
}

describe('serverSideApply', () => {
  it('creates an object owned by the applier, with fieldsV1 encoded as upstream does', () => {
    const { object, conflicts } = serverSideApply(undefined, deployment(2), 'kubectl', false, 'apps/v1', T0);
    expect(conflicts).toBeUndefined();
    expect(asDeployment(object).spec.replicas).toBe(2);
    expect(managedFields(object)).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
  });

  it('removes fields the manager stops applying, and keeps the rest', () => {
    const created = serverSideApply(undefined, deployment(2, 'nginx:1', { minReadySeconds: 5 }), 'kubectl', false, 'apps/v1', T0).object;
    const { object } = serverSideApply(created, deployment(2), 'kubectl', false, 'apps/v1', T1);
    expect(object['spec']).not.toHaveProperty('minReadySeconds');
    expect(asDeployment(object).spec.replicas).toBe(2);
  });

  it('answers a changed field another manager owns with a 409 naming manager and field', () => {
    const created = serverSideApply(undefined, deployment(2), 'kubectl', false, 'apps/v1', T0).object;
    const scaled = recordUpdate(created, { ...created, spec: { ...(created['spec'] as JsonObject), replicas: 5 } }, 'kubectl-scale', 'apps/v1', T1);
    const status = conflictOf(() => serverSideApply(scaled, deployment(3), 'kubectl', false, 'apps/v1', T2));
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-scale" using apps/v1', field: '.spec.replicas' }] },
      code: 409,
    });
  });

  it('shares a field when the applied value equals the other owner\'s', () => {
    const created = serverSideApply(undefined, deployment(2), 'kubectl', false, 'apps/v1', T0).object;
    const scaled = recordUpdate(created, { ...created, spec: { ...(created['spec'] as JsonObject), replicas: 5 } }, 'kubectl-scale', 'apps/v1', T1);
    const { object } = serverSideApply(scaled, deployment(5), 'kubectl', false, 'apps/v1', T2);
    const owners = managedFields(object).filter((entry) => JSON.stringify(entry['fieldsV1']).includes('f:replicas'));
    expect(owners.map((entry) => entry['manager'])).toEqual(['kubectl', 'kubectl-scale']);
  });

  it('with force takes the field over and reports what it took', () => {
    const created = serverSideApply(undefined, deployment(2), 'kubectl', false, 'apps/v1', T0).object;
    const scaled = recordUpdate(created, { ...created, spec: { ...(created['spec'] as JsonObject), replicas: 5 } }, 'kubectl-scale', 'apps/v1', T1);
    const { object, conflicts } = serverSideApply(scaled, deployment(3), 'kubectl', true, 'apps/v1', T2);
    expect(asDeployment(object).spec.replicas).toBe(3);
    expect(conflicts).toEqual([{ manager: '"kubectl-scale" using apps/v1', field: '.spec.replicas' }]);
    // kubectl-scale owned nothing else, so its entry is gone.
    expect(managedFields(object).map((entry) => entry['manager'])).toEqual(['kubectl']);
  });

  it('lists several conflicts per manager, with list items by key', () => {
    const created = serverSideApply(undefined, deployment(2), 'kubectl', false, 'apps/v1', T0).object;
    const edited = recordUpdate(created, deployment(4, 'nginx:2'), 'kubectl-edit', 'apps/v1', T1);
    const status = conflictOf(() => serverSideApply(edited, deployment(2, 'nginx:3'), 'kubectl', false, 'apps/v1', T2));
    expect(status.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
    expect(status.details?.causes?.map((cause) => cause.field)).toEqual(['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image']);
  });

  it('gives what an object held before its first apply to "before-first-apply"', () => {
    const status = conflictOf(() => serverSideApply(deployment(1), deployment(3), 'kubectl', false, 'apps/v1', T0));
    expect(status.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
  });

  it('keeps a field it stops applying when another manager also owns it', () => {
    const withLabels = (labels: Record<string, string>): JsonObject => ({ ...deployment(2), metadata: { name: 'web', labels } });
    const first = serverSideApply(undefined, withLabels({ a: '1', b: '2' }), 'alice', false, 'apps/v1', T0).object;
    const second = serverSideApply(first, withLabels({ b: '2' }), 'bob', false, 'apps/v1', T1).object;
    const third = serverSideApply(second, withLabels({ a: '1' }), 'alice', false, 'apps/v1', T2).object;
    expect(asDeployment(third).metadata.labels).toEqual({ a: '1', b: '2' });
    const alone = serverSideApply(third, withLabels({ b: '2' }), 'bob', false, 'apps/v1', T2).object;
    expect(asDeployment(alone).metadata.labels).toEqual({ a: '1', b: '2' });
  });

  it('merges list items by key and removes the items it no longer applies', () => {
    const twoContainers = deployment(1);
    (asDeployment(twoContainers).spec.template.spec.containers as unknown[]).push({ name: 'sidecar', image: 'envoy' });
    const first = serverSideApply(undefined, twoContainers, 'kubectl', false, 'apps/v1', T0).object;
    const { object } = serverSideApply(first, deployment(1), 'kubectl', false, 'apps/v1', T1);
    expect(asDeployment(object).spec.template.spec.containers).toEqual([{ name: 'nginx', image: 'nginx:1' }]);
  });

  it('owns the items of a primitive merge list (finalizers) as a set', () => {
    const config = { ...deployment(1), metadata: { name: 'web', finalizers: ['example.com/a'] } };
    const { object } = serverSideApply(undefined, config, 'kubectl', false, 'apps/v1', T0);
    expect(managedFields(object)[0]?.['fieldsV1']).toMatchObject({ 'f:metadata': { 'f:finalizers': { 'v:"example.com/a"': {} } } });
  });

  it('orders Apply entries before Update entries, keeps the time of an unchanged apply', () => {
    const created = serverSideApply(undefined, deployment(2), 'kubectl', false, 'apps/v1', T0).object;
    const labelled = recordUpdate(created, { ...created, metadata: { ...(created['metadata'] as JsonObject), annotations: { note: 'x' } } }, 'editor', 'apps/v1', T1);
    const again = serverSideApply(labelled, deployment(2), 'kubectl', false, 'apps/v1', T2).object;
    expect(managedFields(again).map((entry) => [entry['manager'], entry['operation'], entry['time']])).toEqual([
      ['kubectl', 'Apply', T0],
      ['editor', 'Update', T1],
    ]);
  });
});

describe('recordUpdate', () => {
  it('gives the fields a write changed to its manager, with "." on maps it added', () => {
    const created = recordUpdate(undefined, deployment(1), 'kubectl-create', 'apps/v1', T0);
    const entry = managedFields(created)[0];
    expect(entry).toMatchObject({ manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1' });
    expect(entry?.['fieldsV1']).toMatchObject({
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:replicas': {} },
    });
  });

  it('marks added maps with "." but not the always-present metadata struct (a ConfigMap create)', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', labels: { app: 'web' } }, data: { key: 'value' } };
    expect(managedFields(recordUpdate(undefined, configMap, 'kubectl-create', 'v1', T0))[0]?.['fieldsV1']).toEqual({
      'f:data': { '.': {}, 'f:key': {} },
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    });
  });

  it('moves a changed field from its previous owner and leaves an unchanged object alone', () => {
    const created = serverSideApply(undefined, deployment(2), 'kubectl', false, 'apps/v1', T0).object;
    const updated = recordUpdate(created, { ...created, spec: { ...(created['spec'] as JsonObject), replicas: 4 } }, 'hpa', 'apps/v1', T1);
    const byManager = Object.fromEntries(managedFields(updated).map((entry) => [entry['manager'], JSON.stringify(entry['fieldsV1'])]));
    expect(byManager['hpa']).toBe('{"f:spec":{"f:replicas":{}}}');
    expect(byManager['kubectl']).not.toContain('f:replicas');
    expect(recordUpdate(updated, updated, 'hpa', 'apps/v1', T2)).toEqual(updated);
  });

  it('does not start tracking an existing object nobody tracks', () => {
    const updated = recordUpdate(deployment(1), deployment(2), 'kubectl-edit', 'apps/v1', T0);
    expect(asDeployment(updated).metadata.managedFields).toBeUndefined();
  });
});
