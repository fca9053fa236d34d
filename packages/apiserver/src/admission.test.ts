import { describe, expect, it } from 'vitest';
import { admitDefaultTolerationSeconds, admitPodPriority, admitPriorityClass, globalDefaultClass, keepPodPriority, type PriorityClassLister } from './admission.js';
import type { KubeObject } from './object_store.js';

const pc = (name: string, value: number, fields: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name },
  value,
  preemptionPolicy: 'PreemptLowerPriority',
  ...fields,
});

function lister(classes: KubeObject[]): PriorityClassLister {
  return {
    get: async (name) => classes.find((candidate) => candidate.metadata?.name === name),
    list: async () => classes,
  };
}

const pod = (spec: Record<string, unknown> = {}): KubeObject => ({ metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec } });
const specOf = (object: KubeObject): Record<string, unknown> => object['spec'] as Record<string, unknown>;

async function refusal(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; message: string };
  }
  throw new Error('admitted');
}

describe('Priority admission of pods', () => {
  const classes = [pc('high', 1000), pc('polite', 500, { preemptionPolicy: 'Never' })];

  it('resolves priorityClassName to priority and preemptionPolicy', async () => {
    const admitted = pod({ priorityClassName: 'polite' });
    await admitPodPriority(admitted, 'web', lister(classes));
    expect(specOf(admitted)).toMatchObject({ priorityClassName: 'polite', priority: 500, preemptionPolicy: 'Never' });
  });

  it('gives a pod without a class priority 0 and PreemptLowerPriority when no class is the global default', async () => {
    const admitted = pod();
    await admitPodPriority(admitted, 'web', lister(classes));
    expect(specOf(admitted)['priority']).toBe(0);
    expect(specOf(admitted)['preemptionPolicy']).toBe('PreemptLowerPriority');
    expect(specOf(admitted)['priorityClassName']).toBeUndefined();
  });

  it('gives a pod without a class the global default class, named in its spec', async () => {
    const admitted = pod();
    await admitPodPriority(admitted, 'web', lister([...classes, pc('fallback', 7, { globalDefault: true, preemptionPolicy: 'Never' })]));
    expect(specOf(admitted)).toMatchObject({ priorityClassName: 'fallback', priority: 7, preemptionPolicy: 'Never' });
  });

  it('refuses an unknown class with 403, naming the pod as the request did', async () => {
    const error = await refusal(admitPodPriority(pod({ priorityClassName: 'foo' }), 'web-7d9f8-', lister(classes)));
    expect(error.code).toBe(403);
    expect(error.message).toBe('pods "web-7d9f8-" is forbidden: no PriorityClass with name foo was found');
  });

  it('accepts a priority the pod set that equals the computed one, and refuses one that differs', async () => {
    const same = pod({ priorityClassName: 'high', priority: 1000 });
    await admitPodPriority(same, 'web', lister(classes));
    expect(specOf(same)['priority']).toBe(1000);
    const error = await refusal(admitPodPriority(pod({ priorityClassName: 'high', priority: 5 }), 'web', lister(classes)));
    expect(error.code).toBe(403);
    expect(error.message).toBe(
      'pods "web" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
    );
  });

  it('refuses a preemptionPolicy that differs from the class', async () => {
    const error = await refusal(admitPodPriority(pod({ priorityClassName: 'polite', preemptionPolicy: 'PreemptLowerPriority' }), 'web', lister(classes)));
    expect(error.message).toBe(
      'pods "web" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name',
    );
  });

  it('keeps the resolved priority and policy when an update leaves them out', () => {
    const old = pod({ priority: 1000, priorityClassName: 'high', preemptionPolicy: 'PreemptLowerPriority' });
    const next = pod({ priorityClassName: 'high' });
    keepPodPriority(next, old);
    expect(specOf(next)).toMatchObject({ priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });
    const changed = pod({ priorityClassName: 'high', priority: 3 });
    keepPodPriority(changed, old);
    expect(specOf(changed)['priority']).toBe(3); // validation refuses the change
  });
});

describe('Priority admission of PriorityClasses', () => {
  const existing = [pc('high', 1000), pc('fallback', 10, { globalDefault: true })];

  it('allows one global default class only', () => {
    expect(() => admitPriorityClass(pc('second', 5, { globalDefault: true }), 'second', 'create', existing)).toThrow(
      'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass fallback is already marked as default. Only one default can exist',
    );
    expect(() => admitPriorityClass(pc('high', 1000, { globalDefault: true }), 'high', 'update', existing)).toThrow(/PriorityClass fallback is already marked as default/);
    // The default itself may be updated, and classes that are not defaults are not checked.
    admitPriorityClass(pc('fallback', 10, { globalDefault: true, description: 'new' }), 'fallback', 'update', existing);
    admitPriorityClass(pc('third', 5), 'third', 'create', existing);
    admitPriorityClass(pc('first', 5, { globalDefault: true }), 'first', 'create', [pc('high', 1000)]);
  });

  it('takes the lowest-valued default when a race let two in', () => {
    expect(globalDefaultClass([pc('a', 50, { globalDefault: true }), pc('b', 20, { globalDefault: true }), pc('c', 1)])?.metadata?.name).toBe('b');
    expect(globalDefaultClass([pc('c', 1)])).toBeUndefined();
  });
});

describe('DefaultTolerationSeconds admission of pods', () => {
  const notReady = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
  const unreachable = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
  const admitted = (spec: Record<string, unknown> = {}): unknown => {
    const object = pod(spec);
    admitDefaultTolerationSeconds(object);
    return specOf(object)['tolerations'];
  };

  it('gives a pod without tolerations 300 s for the not-ready and unreachable NoExecute taints', () => {
    expect(admitted()).toEqual([notReady, unreachable]);
  });

  it('keeps the pod\'s own tolerations first and adds only what they do not cover', () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6000 };
    const other = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' };
    expect(admitted({ tolerations: [other, own] })).toEqual([other, own, notReady]);
  });

  it('counts a toleration with an empty key or an empty effect as covering, whatever its operator or seconds', () => {
    const everything = { operator: 'Exists' };
    expect(admitted({ tolerations: [everything] })).toEqual([everything]);
    const anyEffect = { key: 'node.kubernetes.io/not-ready', operator: 'Exists' };
    expect(admitted({ tolerations: [anyEffect] })).toEqual([anyEffect, unreachable]);
    const forever = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' };
    expect(admitted({ tolerations: [forever] })).toEqual([forever, unreachable]);
  });

  it('does not count a NoSchedule toleration of the same key', () => {
    const noSchedule = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' };
    expect(admitted({ tolerations: [noSchedule] })).toEqual([noSchedule, notReady, unreachable]);
  });

  it('is idempotent, so an update that keeps the tolerations adds nothing', () => {
    expect(admitted({ tolerations: [notReady, unreachable] })).toEqual([notReady, unreachable]);
  });

  it("gives the configured seconds (kube-apiserver's --default-not-ready/unreachable-toleration-seconds) to what it adds only", () => {
    const object = pod({ tolerations: [{ ...unreachable, tolerationSeconds: 6000 }] });
    admitDefaultTolerationSeconds(object, { notReadySeconds: 15, unreachableSeconds: 20 });
    expect(specOf(object)['tolerations']).toEqual([{ ...unreachable, tolerationSeconds: 6000 }, { ...notReady, tolerationSeconds: 15 }]);
    expect(admitted()).toEqual([notReady, unreachable]);
    const bare = pod();
    admitDefaultTolerationSeconds(bare, { notReadySeconds: 0, unreachableSeconds: 20 });
    expect(specOf(bare)['tolerations']).toEqual([{ ...notReady, tolerationSeconds: 0 }, { ...unreachable, tolerationSeconds: 20 }]);
  });

  it('leaves a malformed spec to validation', () => {
    const garbage: KubeObject = { metadata: { name: 'web' }, spec: { tolerations: 'all' } };
    admitDefaultTolerationSeconds(garbage);
    expect(specOf(garbage)['tolerations']).toBe('all');
  });
});
