import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { applyStrategicMergePatch } from './strategic_merge_patch.js';

const pod = () => ({
  metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a', 'b'] },
  spec: {
    containers: [
      { name: 'app', image: 'nginx', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
      { name: 'sidecar', image: 'envoy' },
    ],
    tolerations: [{ key: 'x', operator: 'Exists' }],
    volumes: [{ name: 'data', emptyDir: {} }],
  },
  status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] },
});

function statusOf(run: () => unknown): ApiError['status'] {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
  throw new Error('expected an ApiError');
}

type Pod = ReturnType<typeof pod>;
const patchPod = (patch: unknown): Pod => applyStrategicMergePatch(pod(), patch, 'Pod') as Pod;

describe('applyStrategicMergePatch', () => {
  it('merges containers by name, and env inside them by name', () => {
    const result = patchPod({ spec: { containers: [{ name: 'app', image: 'nginx:2', env: [{ name: 'B', value: '2' }] }] } });
    expect(result.spec.containers).toEqual([
      // Without $setElementOrder, items the live list lacks go before the live ones.
      { name: 'app', image: 'nginx:2', env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
      { name: 'sidecar', image: 'envoy' },
    ]);
  });

  it('puts a new list item first, as upstream orders items the live list does not know', () => {
    const result = patchPod({ spec: { containers: [{ name: 'init', image: 'busybox' }] } });
    expect(result.spec.containers.map((container) => container.name)).toEqual(['init', 'app', 'sidecar']);
  });

  it('replaces a list without a strategy (tolerations are atomic)', () => {
    const result = patchPod({ spec: { tolerations: [{ key: 'y', operator: 'Exists' }] } });
    expect(result.spec.tolerations).toEqual([{ key: 'y', operator: 'Exists' }]);
  });

  it('merges status conditions by type', () => {
    const result = patchPod({ status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(result.status.conditions).toEqual([
      { type: 'Ready', status: 'True' },
      { type: 'PodScheduled', status: 'True' },
    ]);
  });

  it('unions a merge list of primitives (finalizers) and deletes from it with $deleteFromPrimitiveList', () => {
    // 'a' was live before 'b', which the patch names: it keeps its place, 'c' follows the patch's order.
    expect(patchPod({ metadata: { finalizers: ['b', 'c'] } }).metadata.finalizers).toEqual(['a', 'b', 'c']);
    expect(patchPod({ metadata: { finalizers: ['c'] } }).metadata.finalizers).toEqual(['c', 'a', 'b']);
    expect(patchPod({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }).metadata.finalizers).toEqual(['b']);
  });

  it('deletes a map key on null and leaves absent keys alone', () => {
    const result = patchPod({ metadata: { labels: { app: null, tier: 'front' } } });
    expect(result.metadata.labels).toEqual({ tier: 'front' });
    expect(result.metadata.name).toBe('web');
  });

  it('removes a list item with $patch: delete', () => {
    const result = patchPod({ spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } });
    expect(result.spec.containers.map((container) => container.name)).toEqual(['app']);
  });

  it('replaces a whole list with a $patch: replace item', () => {
    const result = patchPod({ spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } });
    expect(result.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('replaces or empties a map with $patch', () => {
    expect(patchPod({ metadata: { labels: { $patch: 'replace', fresh: 'yes' } } }).metadata.labels).toEqual({ fresh: 'yes' });
    expect(patchPod({ metadata: { labels: { $patch: 'delete' } } }).metadata.labels).toEqual({});
  });

  it('orders a list as $setElementOrder says', () => {
    const result = patchPod({
      spec: {
        '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
        containers: [{ name: 'app', image: 'nginx:3' }],
      },
    });
    expect(result.spec.containers.map((container) => [container.name, container.image])).toEqual([
      ['sidecar', 'envoy'],
      ['app', 'nginx:3'],
    ]);
  });

  it('keeps only the $retainKeys of an object (switching a volume source)', () => {
    const result = patchPod({
      spec: { volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/srv' } }] },
    });
    expect(result.spec.volumes).toEqual([{ name: 'data', hostPath: { path: '/srv' } }]);
  });

  it('merges the pod template of a Deployment with the pod strategies', () => {
    const deployment = { spec: { replicas: 1, template: { spec: { containers: [{ name: 'app', image: 'a', ports: [{ containerPort: 80, name: 'http' }] }] } } } };
    const result = applyStrategicMergePatch(deployment, { spec: { template: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 443 }] }] } } } }, 'Deployment');
    expect(result).toEqual({
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'app', image: 'a', ports: [{ containerPort: 443 }, { containerPort: 80, name: 'http' }] }] } } },
    });
  });

  it('merges Service ports by port', () => {
    const service = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const result = applyStrategicMergePatch(service, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, 'Service');
    expect(result).toEqual({ spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } });
  });

  it('drops nulls and directives inside a value that is new to the object', () => {
    const result = applyStrategicMergePatch({}, { spec: { a: null, b: { c: 1, d: null }, e: [{ $patch: 'delete', name: 'x' }] } }, 'Pod');
    expect(result).toEqual({ spec: { b: { c: 1 }, e: [] } });
  });

  it('does not modify its inputs', () => {
    const live = pod();
    const patch = { spec: { containers: [{ name: 'app', $patch: 'delete' }] } };
    applyStrategicMergePatch(live, patch, 'Pod');
    expect(live).toEqual(pod());
    expect(patch.spec.containers[0]).toEqual({ name: 'app', $patch: 'delete' });
  });

  it('answers malformed directives as upstream does', () => {
    expect(statusOf(() => patchPod({ spec: { $retainKeys: 'name' } }))).toMatchObject({
      code: 400,
      message: 'invalid patch format of retainKeys',
    });
    expect(statusOf(() => patchPod({ spec: { $retainKeys: ['volumes'], containers: [] } }))).toMatchObject({ code: 400 });
    expect(statusOf(() => patchPod({ metadata: { $deleteFromPrimitiveListfinalizers: ['a'] } }))).toMatchObject({
      code: 400,
      message: 'invalid patch format of primitive list',
    });
    expect(statusOf(() => patchPod({ spec: { containers: [{ image: 'x' }] } }))).toMatchObject({
      code: 500,
      message: 'map: map[image:x] does not contain declared merge key: name',
    });
    expect(statusOf(() => patchPod({ metadata: { labels: { $patch: 'merge' } } }))).toMatchObject({
      code: 500,
      message: 'unknown patch type: merge in map: map[$patch:merge]',
    });
    expect(statusOf(() => patchPod({ metadata: { finalizers: [['a']] } }))).toMatchObject({ code: 422 });
    expect(statusOf(() => patchPod(['not', 'a', 'map']))).toMatchObject({
      code: 400,
      message: 'json: cannot unmarshal array into Go value of type map[string]interface {}',
    });
  });
});
