import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { node, pod } from '../../testing/builders.js';
import { BalancedAllocation, NAME, balancedResourceScore, factory, type NodeResourcesBalancedAllocationArgs } from './index.js';

function scores(target: Pod, infos: NodeInfo[], args: NodeResourcesBalancedAllocationArgs = {}): Record<string, number> {
  const plugin = new BalancedAllocation(args);
  const state = new CycleState();
  expect(plugin.preScore(state, target).isSuccess()).toBe(true);
  return Object.fromEntries(infos.map((info) => [info.name, plugin.score(state, target, info).score]));
}

describe('NodeResourcesBalancedAllocation', () => {
  // Nodes have 4 cpu and 8Gi memory.
  it('scores (1 - |cpu fraction - memory fraction| / 2) * 100, truncated', () => {
    const target = pod('p').request({ cpu: '1', memory: '1Gi' }).build();
    const empty = node('empty').info();
    const evened = node('evened').info(pod('a').request({ cpu: '1', memory: '3Gi' }).build());
    // empty: cpu 1/4 = 0.25, memory 1/8 = 0.125 → (1 - 0.0625) * 100 = 93.75 → 93.
    // evened: cpu 2/4 = 0.5, memory 4Gi/8Gi = 0.5 → 100.
    expect(scores(target, [empty, evened])).toEqual({ empty: 93, evened: 100 });
  });

  it('counts real requests: pods without requests add nothing', () => {
    const crowded = node('crowded').info(pod('a').build(), pod('b').build());
    expect(scores(pod('p').build(), [crowded])).toEqual({ crowded: 100 });
    // cpu 2/4 = 0.5 against memory 0 → 75.
    expect(scores(pod('p').request({ cpu: '2' }).build(), [crowded])).toEqual({ crowded: 75 });
  });

  it('caps a fraction at 1 on an overcommitted node', () => {
    const overcommitted = node('over').info(pod('a').request({ cpu: '8' }).build());
    // cpu min(9/4, 1) = 1, memory 0 → (1 - 0.5) * 100 = 50.
    expect(scores(pod('p').request({ cpu: '1' }).build(), [overcommitted])).toEqual({ over: 50 });
  });

  it('uses the population standard deviation over more than two resources', () => {
    const args: NodeResourcesBalancedAllocationArgs = {
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
        { name: 'ephemeral-storage', weight: 1 },
      ],
    };
    const disk = node('disk').allocatable({ 'ephemeral-storage': '10Gi' }).info();
    // fractions 0.5, 0.25, 0.1: std = 0.16499 → 83.
    expect(scores(pod('p').request({ cpu: '2', memory: '2Gi', 'ephemeral-storage': '1Gi' }).build(), [disk], args)).toEqual({ disk: 83 });
  });

  it('leaves out resources the node has none of', () => {
    expect(balancedResourceScore([1000, 0], [4000, 0])).toBe(100);
    expect(balancedResourceScore([], [])).toBe(100);
  });

  it('is built by its factory under its upstream name, on cpu and memory by default', () => {
    const built = factory({}, {} as Handle) as BalancedAllocation;
    expect([NAME, built.name]).toEqual(['NodeResourcesBalancedAllocation', 'NodeResourcesBalancedAllocation']);
    expect(built.resources.map(({ name }) => name)).toEqual(['cpu', 'memory']);
  });
});
