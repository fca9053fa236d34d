import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Code } from '../../framework/status.js';
import { node, pod } from '../../testing/builders.js';
import {
  Fit,
  NAME,
  brokenLinearFunction,
  factory,
  fits,
  isExtendedResourceName,
  leastRequestedScore,
  mostRequestedScore,
  type NodeResourcesFitArgs,
} from './index.js';

function filter(target: Pod, info: NodeInfo, args: NodeResourcesFitArgs = {}) {
  const plugin = new Fit(args);
  const state = new CycleState();
  expect(plugin.preFilter(state, target).status.isSuccess()).toBe(true);
  return plugin.filter(state, target, info);
}

/** Raw Fit scores (Fit has no NormalizeScore: its scores are already on [0, 100]). */
function scores(target: Pod, infos: NodeInfo[], args: NodeResourcesFitArgs = {}): Record<string, number> {
  const plugin = new Fit(args);
  const state = new CycleState();
  expect(plugin.preScore(state, target).isSuccess()).toBe(true);
  return Object.fromEntries(infos.map((info) => [info.name, plugin.score(state, target, info).score]));
}

describe('NodeResourcesFit Filter', () => {
  // Nodes have 4 cpu, 8Gi memory and room for 110 pods unless said otherwise.
  it.each<[string, Pod, NodeInfo, string[]]>([
    ['a pod that fits an empty node', pod('p').request({ cpu: '1', memory: '1Gi' }).build(), node('n').info(), []],
    ['a pod that exactly fills the node', pod('p').request({ cpu: '1' }).build(), node('n').info(pod('a').request({ cpu: '3' }).build()), []],
    ['a pod asking nothing on a full node', pod('p').build(), node('n').info(pod('a').request({ cpu: '4', memory: '8Gi' }).build()), []],
    ['too little cpu', pod('p').request({ cpu: '2' }).build(), node('n').info(pod('a').request({ cpu: '3' }).build()), ['Insufficient cpu']],
    [
      'too little cpu and memory: every reason',
      pod('p').request({ cpu: '1', memory: '2Gi' }).build(),
      node('n').info(pod('a').request({ cpu: '3500m', memory: '7Gi' }).build()),
      ['Insufficient cpu', 'Insufficient memory'],
    ],
    ['no room for one more pod', pod('p').build(), node('n').pods(1).info(pod('a').build()), ['Too many pods']],
    [
      'too many pods and too little memory',
      pod('p').request({ memory: '9Gi' }).build(),
      node('n').pods(1).info(pod('a').build()),
      ['Too many pods', 'Insufficient memory'],
    ],
    [
      'too little ephemeral storage',
      pod('p').request({ 'ephemeral-storage': '20Gi' }).build(),
      node('n').allocatable({ 'ephemeral-storage': '10Gi' }).info(),
      ['Insufficient ephemeral-storage'],
    ],
    ['an extended resource the node lacks', pod('p').request({ 'example.com/gpu': '1' }).build(), node('n').info(), ['Insufficient example.com/gpu']],
    [
      'an extended resource in use',
      pod('p').request({ 'example.com/gpu': '1' }).build(),
      node('n').allocatable({ 'example.com/gpu': '2' }).info(pod('a').request({ 'example.com/gpu': '2' }).build()),
      ['Insufficient example.com/gpu'],
    ],
    ['hugepages', pod('p').request({ 'hugepages-2Mi': '4Mi' }).build(), node('n').allocatable({ 'hugepages-2Mi': '2Mi' }).info(), ['Insufficient hugepages-2Mi']],
    [
      'the largest init container, not the sum',
      pod('p').request({ cpu: '1' }).initContainer('setup', { cpu: '3' }).build(),
      node('n').cpu('2').info(),
      ['Insufficient cpu'],
    ],
    [
      'a sidecar adds to the containers',
      pod('p').request({ cpu: '1500m' }).initContainer('proxy', { cpu: '1' }, 'Always').build(),
      node('n').cpu('2').info(),
      ['Insufficient cpu'],
    ],
  ])('%s', (_name, target, info, reasons) => {
    const status = filter(target, info);
    expect(status.reasons).toEqual(reasons);
    expect(status.code).toBe(reasons.length === 0 ? Code.Success : Code.Unschedulable);
  });

  it('ignores configured extended resources by name or by group, but never native ones', () => {
    const gpu = pod('p').request({ 'example.com/gpu': '1' }).build();
    expect(filter(gpu, node('n').info(), { ignoredResources: ['example.com/gpu'] }).isSuccess()).toBe(true);
    expect(filter(gpu, node('n').info(), { ignoredResourceGroups: ['example.com'] }).isSuccess()).toBe(true);
    expect(filter(gpu, node('n').info(), { ignoredResourceGroups: ['other.com'] }).isSuccess()).toBe(false);
    const huge = pod('p').request({ 'hugepages-2Mi': '4Mi' }).build();
    expect(filter(huge, node('n').info(), { ignoredResources: ['hugepages-2Mi'] }).reasons).toEqual(['Insufficient hugepages-2Mi']);
  });

  it('exports the fit check with the amounts involved', () => {
    const missing = fits(pod('p').request({ cpu: '2' }).build(), node('n').info(pod('a').request({ cpu: '3' }).build()));
    expect(missing).toEqual([{ resourceName: 'cpu', reason: 'Insufficient cpu', requested: 2000, used: 3000, capacity: 4000 }]);
  });

  it.each([
    ['example.com/gpu', true],
    ['nvidia.com/gpu', true],
    ['cpu', false],
    ['kubernetes.io/something', false],
    ['hugepages-2Mi', false],
    ['requests.example.com/gpu', false],
  ])('isExtendedResourceName(%s) = %s', (name, expected) => {
    expect(isExtendedResourceName(name)).toBe(expected);
  });
});

describe('NodeResourcesFit Score', () => {
  const empty = node('empty').info();
  // cpu 3 of 4 and memory 4Gi of 8Gi requested with the 1 cpu / 2Gi pod.
  const half = node('half').info(pod('a').request({ cpu: '2', memory: '2Gi' }).build());
  // A pod without requests counts as 100m and 200Mi.
  const bestEffort = node('besteffort').info(pod('a').build());
  const incoming = pod('p').request({ cpu: '1', memory: '2Gi' }).build();

  it('LeastAllocated (default) averages the free percentages, truncating', () => {
    // empty: cpu (4000-1000)*100/4000 = 75, memory 75 → 75.
    // half: cpu 25, memory 50 → 37 (37.5 truncated).
    // besteffort: cpu (4000-1100)*100/4000 = 72, memory (8192-2248)Mi*100/8192Mi = 72 → 72.
    expect(scores(incoming, [empty, half, bestEffort])).toEqual({ empty: 75, half: 37, besteffort: 72 });
  });

  it('counts the incoming pod by its non-zero requests', () => {
    // cpu (4000-100)*100/4000 = 97, memory (8192-200)*100/8192 = 97.
    expect(scores(pod('p').build(), [empty])).toEqual({ empty: 97 });
  });

  it('weighs resources as configured', () => {
    const args: NodeResourcesFitArgs = { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 2 }, { name: 'memory', weight: 1 }] } };
    // half: (25*2 + 50*1) / 3 = 33.
    expect(scores(incoming, [half], args)).toEqual({ half: 33 });
  });

  it('MostAllocated averages the used percentages (bin packing)', () => {
    // empty: 25, 25 → 25; half: 75, 50 → 62.
    expect(scores(incoming, [empty, half], { scoringStrategy: { type: 'MostAllocated' } })).toEqual({ empty: 25, half: 62 });
  });

  it('RequestedToCapacityRatio maps utilization through the shape, rounding the average', () => {
    const packing: NodeResourcesFitArgs = {
      scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }] } },
    };
    // half: cpu 75% → 75, memory 50% → 50; round(62.5) = 63.
    expect(scores(incoming, [empty, half], packing)).toEqual({ empty: 25, half: 63 });
    const spreading: NodeResourcesFitArgs = {
      scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }] } },
    };
    // half: cpu 100 - 75 = 25, memory 50; round(37.5) = 38.
    expect(scores(incoming, [empty, half], spreading)).toEqual({ empty: 75, half: 38 });
  });

  it('scores an extended resource only when the pod asks for it', () => {
    const args: NodeResourcesFitArgs = { scoringStrategy: { resources: [{ name: 'cpu', weight: 1 }, { name: 'example.com/gpu', weight: 1 }] } };
    const gpuNode = node('gpu').allocatable({ 'example.com/gpu': '4' }).info();
    // cpu (4000-1000)*100/4000 = 75, gpu (4-1)*100/4 = 75; without a gpu request only cpu counts.
    expect(scores(pod('p').request({ cpu: '1', 'example.com/gpu': '1' }).build(), [gpuNode], args)).toEqual({ gpu: 75 });
    expect(scores(pod('p').request({ cpu: '2' }).build(), [gpuNode], args)).toEqual({ gpu: 50 });
  });

  it('keeps the per-resource formulas of upstream', () => {
    expect(leastRequestedScore(3000, 4000)).toBe(25);
    expect(leastRequestedScore(5000, 4000)).toBe(0);
    expect(leastRequestedScore(0, 0)).toBe(0);
    expect(mostRequestedScore(1000, 3000)).toBe(33);
    expect(mostRequestedScore(5000, 4000)).toBe(100);
    const shape = brokenLinearFunction([{ utilization: 10, score: 20 }, { utilization: 50, score: 100 }]);
    expect([0, 10, 30, 50, 90].map(shape)).toEqual([20, 20, 60, 100, 100]);
  });
});

describe('NodeResourcesFit plugin', () => {
  it('is built by its factory under its upstream name, LeastAllocated on cpu and memory by default', () => {
    const built = factory({}, {} as Handle) as Fit;
    expect([NAME, built.name]).toEqual(['NodeResourcesFit', 'NodeResourcesFit']);
    expect(built.strategy).toBe('LeastAllocated');
    expect(built.resources).toEqual([
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ]);
  });

  it('refuses an unknown strategy and a ratio strategy without a shape', () => {
    expect(() => new Fit({ scoringStrategy: { type: 'Random' as never } })).toThrow('scoring strategy Random is not supported');
    expect(() => new Fit({ scoringStrategy: { type: 'RequestedToCapacityRatio' } })).toThrow(/shape/);
  });

  it('requeues on pod deletion and node events', () => {
    expect(new Fit().eventsToRegister()).toEqual([
      { resource: 'Pod', action: 'Delete' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ]);
  });
});
