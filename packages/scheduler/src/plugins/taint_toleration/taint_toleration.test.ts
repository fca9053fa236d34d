import { describe, expect, it } from 'vitest';
import type { Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Code } from '../../framework/status.js';
import { node, pod } from '../../testing/builders.js';
import { NAME, TaintToleration, factory, findUntoleratedTaint, isDoNotScheduleTaint, tolerates } from './index.js';

const plugin = new TaintToleration();

function filter(target: Pod, info: NodeInfo) {
  return plugin.filter(new CycleState(), target, info);
}

function scores(target: Pod, infos: NodeInfo[]): Record<string, number> {
  const state = new CycleState();
  expect(plugin.preScore(state, target).isSuccess()).toBe(true);
  const list = infos.map((info) => ({ name: info.name, score: plugin.score(state, target, info).score }));
  plugin.scoreExtensions().normalizeScore(state, target, list);
  return Object.fromEntries(list.map(({ name, score }) => [name, score]));
}

describe('tolerates', () => {
  const gpu: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  it.each<[string, Toleration, boolean]>([
    ['Equal with the same key, value and effect', { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, true],
    ['no operator means Equal', { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, true],
    ['Equal with another value', { key: 'dedicated', operator: 'Equal', value: 'cpu', effect: 'NoSchedule' }, false],
    ['Equal without a value against a valued taint', { key: 'dedicated', operator: 'Equal', effect: 'NoSchedule' }, false],
    ['Exists matches any value', { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, true],
    ['Exists with another key', { key: 'other', operator: 'Exists' }, false],
    ['an empty key with Exists matches every taint', { operator: 'Exists' }, true],
    ['an empty effect matches every effect', { key: 'dedicated', operator: 'Equal', value: 'gpu' }, true],
    ['another effect', { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute' }, false],
    ['an unknown operator', { key: 'dedicated', operator: 'Gt', value: 'gpu' }, false],
  ])('%s: %s', (_name, toleration, expected) => {
    expect(tolerates([toleration], gpu)).toBe(expected);
  });

  it('needs only one of several tolerations, and none tolerate with no tolerations', () => {
    expect(tolerates([{ key: 'x', operator: 'Exists' }, { key: 'dedicated', operator: 'Exists' }], gpu)).toBe(true);
    expect(tolerates(undefined, gpu)).toBe(false);
    expect(tolerates([], gpu)).toBe(false);
  });

  it('finds the first untolerated taint the predicate selects', () => {
    const taints: Taint[] = [
      { key: 'soft', effect: 'PreferNoSchedule' },
      { key: 'a', value: '1', effect: 'NoSchedule' },
      { key: 'b', value: '2', effect: 'NoExecute' },
    ];
    expect(findUntoleratedTaint(taints, [], isDoNotScheduleTaint)).toEqual(taints[1]);
    expect(findUntoleratedTaint(taints, [{ key: 'a', operator: 'Exists' }], isDoNotScheduleTaint)).toEqual(taints[2]);
    expect(findUntoleratedTaint(taints, [{ operator: 'Exists' }], isDoNotScheduleTaint)).toBeUndefined();
  });
});

describe('TaintToleration Filter', () => {
  it('admits a node without taints', () => {
    expect(filter(pod('p').build(), node('n1').info()).isSuccess()).toBe(true);
  });

  it('rejects an untolerated NoSchedule taint for good, naming key and value', () => {
    const status = filter(pod('p').build(), node('n1').taint('dedicated', 'gpu', 'NoSchedule').info());
    expect(status.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(status.reasons).toEqual(['node(s) had untolerated taint {dedicated: gpu}']);
  });

  it('prints an empty value as upstream does', () => {
    const status = filter(pod('p').build(), node('cp').taint('node-role.kubernetes.io/control-plane', undefined, 'NoSchedule').info());
    expect(status.reasons).toEqual(['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }']);
  });

  it('rejects an untolerated NoExecute taint', () => {
    const status = filter(pod('p').build(), node('n1').taint('node.kubernetes.io/not-ready', undefined, 'NoExecute').info());
    expect(status.reasons).toEqual(['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
  });

  it('ignores PreferNoSchedule taints', () => {
    expect(filter(pod('p').build(), node('n1').taint('soft', 'x', 'PreferNoSchedule').info()).isSuccess()).toBe(true);
  });

  it('admits a pod tolerating every hard taint and reports the first it does not', () => {
    const info = node('n1').taint('a', '1', 'NoSchedule').taint('b', '2', 'NoSchedule').info();
    const both = pod('p').toleration({ key: 'a', operator: 'Exists' }).toleration({ key: 'b', value: '2', effect: 'NoSchedule' }).build();
    expect(filter(both, info).isSuccess()).toBe(true);
    const onlyA = pod('p').toleration({ key: 'a', operator: 'Exists' }).build();
    expect(filter(onlyA, info).reasons).toEqual(['node(s) had untolerated taint {b: 2}']);
  });
});

describe('TaintToleration Score', () => {
  const clean = node('clean').info();
  const one = node('one').taint('a', '1', 'PreferNoSchedule').info();
  const two = node('two').taint('a', '1', 'PreferNoSchedule').taint('b', '2', 'PreferNoSchedule').info();

  it('counts intolerable PreferNoSchedule taints and reverses: fewer is better', () => {
    // raw 0, 1, 2; max 2: 100 - 100*count/2.
    expect(scores(pod('p').build(), [clean, one, two])).toEqual({ clean: 100, one: 50, two: 0 });
  });

  it('does not count tolerated taints, nor hard taints', () => {
    const hard = node('hard').taint('h', 'x', 'NoSchedule').info();
    const tolerant = pod('p').toleration({ key: 'b', operator: 'Exists', effect: 'PreferNoSchedule' }).build();
    // raw: clean 0, one 1, two 1 (b tolerated), hard 0.
    expect(scores(tolerant, [clean, one, two, hard])).toEqual({ clean: 100, one: 0, two: 0, hard: 100 });
  });

  it('lets an effect-less toleration count, but not a NoSchedule one', () => {
    const anyEffect = pod('p').toleration({ key: 'a', operator: 'Exists' }).build();
    expect(scores(anyEffect, [one, two])).toEqual({ one: 100, two: 0 });
    const noSchedule = pod('p').toleration({ key: 'a', operator: 'Exists', effect: 'NoSchedule' }).build();
    expect(scores(noSchedule, [clean, one])).toEqual({ clean: 100, one: 0 });
  });

  it('gives every node 100 when none has an intolerable taint', () => {
    expect(scores(pod('p').build(), [clean, node('other').info()])).toEqual({ clean: 100, other: 100 });
  });
});

describe('TaintToleration plugin', () => {
  it('is built by its factory under its upstream name and requeues on node and own-pod updates', () => {
    const built = factory({}, {} as Handle) as TaintToleration;
    expect(built.name).toBe('TaintToleration');
    expect(NAME).toBe('TaintToleration');
    expect(built.eventsToRegister()).toEqual([
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
      { resource: 'Pod', action: 'Update' },
    ]);
  });
});
