import { describe, expect, it } from 'vitest';
import type { Plugin } from '../framework/interfaces.js';
import { Status } from '../framework/status.js';
import { Framework } from './framework.js';
import { DEFAULT_PLUGINS, DEFAULT_SCHEDULER_NAME, EXTENSION_POINTS, mergePlugins, profileWithDefaults, type ExtensionPoint } from './profile.js';
import type { Registry } from './registry.js';
import { depsOver } from './test_support.js';

/** Stand-ins for the default plugins, implementing the points the real ones implement upstream. */
const DEFAULT_PLUGIN_POINTS: Record<string, ExtensionPoint[]> = {
  NodeUnschedulable: ['filter'],
  NodeName: ['filter'],
  TaintToleration: ['filter', 'preScore', 'score'],
  NodeAffinity: ['preFilter', 'filter', 'preScore', 'score'],
  NodePorts: ['preFilter', 'filter'],
  NodeResourcesFit: ['preFilter', 'filter', 'preScore', 'score'],
  PodTopologySpread: ['preFilter', 'filter', 'preScore', 'score'],
  InterPodAffinity: ['preFilter', 'filter', 'preScore', 'score'],
  DefaultPreemption: ['postFilter'],
  NodeResourcesBalancedAllocation: ['preScore', 'score'],
  DefaultBinder: ['bind'],
};

const METHODS: Record<ExtensionPoint, string[]> = {
  preFilter: ['preFilter'],
  filter: ['filter'],
  postFilter: ['postFilter'],
  preScore: ['preScore'],
  score: ['score'],
  reserve: ['reserve', 'unreserve'],
  permit: ['permit'],
  bind: ['bind'],
};

function stub(name: string, points: ExtensionPoint[]): Plugin {
  const plugin: Record<string, unknown> = { name };
  for (const point of points) for (const method of METHODS[point]) plugin[method] = () => Status.success();
  return plugin as unknown as Plugin;
}

const registry: Registry = new Map(Object.entries(DEFAULT_PLUGIN_POINTS).map(([name, points]) => [name, () => stub(name, points)]));

function defaultFramework(plugins?: Parameters<typeof profileWithDefaults>[0]): Framework {
  return new Framework(profileWithDefaults(plugins), registry, depsOver([]));
}

describe('DEFAULT_PLUGINS', () => {
  it("places upstream v1.32's default plugins at their points, in upstream's order", () => {
    expect(defaultFramework().listPlugins()).toEqual({
      preFilter: ['NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity'],
      filter: [
        'NodeUnschedulable',
        'NodeName',
        'TaintToleration',
        'NodeAffinity',
        'NodePorts',
        'NodeResourcesFit',
        'PodTopologySpread',
        'InterPodAffinity',
      ],
      postFilter: ['DefaultPreemption'],
      preScore: ['TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity', 'NodeResourcesBalancedAllocation'],
      score: ['TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity', 'NodeResourcesBalancedAllocation'],
      reserve: [],
      permit: [],
      bind: ['DefaultBinder'],
    });
  });

  it.each([
    ['TaintToleration', 3],
    ['NodeAffinity', 2],
    ['PodTopologySpread', 2],
    ['InterPodAffinity', 2],
    ['NodeResourcesFit', 1],
    ['NodeResourcesBalancedAllocation', 1],
  ])('weighs %s %i', (name, weight) => {
    expect(defaultFramework().scoreWeight(name)).toBe(weight);
  });

  it('is frozen, so no profile can change it by accident', () => {
    expect(Object.isFrozen(DEFAULT_PLUGINS.multiPoint?.enabled?.[0])).toBe(true);
  });
});

describe('profileWithDefaults', () => {
  it('names the default scheduler when no name is given', () => {
    expect(profileWithDefaults().schedulerName).toBe(DEFAULT_SCHEDULER_NAME);
  });

  it('drops a default plugin disabled at one point from that point only', () => {
    const fwk = defaultFramework({ plugins: { score: { disabled: [{ name: 'NodeResourcesBalancedAllocation' }] } } });
    const plugins = fwk.listPlugins();
    expect(plugins.score).not.toContain('NodeResourcesBalancedAllocation');
    expect(plugins.preScore).toContain('NodeResourcesBalancedAllocation');
  });

  it("with disabled '*' at a point keeps only the plugins named there", () => {
    const fwk = defaultFramework({ plugins: { score: { enabled: [{ name: 'NodeAffinity', weight: 7 }], disabled: [{ name: '*' }] } } });
    expect(fwk.listPlugins().score).toEqual(['NodeAffinity']);
    expect(fwk.scoreWeight('NodeAffinity')).toBe(7);
  });

  it('lets a multiPoint entry re-weigh a default in place', () => {
    const fwk = defaultFramework({ plugins: { multiPoint: { enabled: [{ name: 'NodeResourcesFit', weight: 5 }] } } });
    expect(fwk.scoreWeight('NodeResourcesFit')).toBe(5);
    expect(fwk.listPlugins().score.indexOf('NodeResourcesFit')).toBe(2);
  });

  it('prefers a weight set at the Score point over the multiPoint one', () => {
    const fwk = defaultFramework({ plugins: { score: { enabled: [{ name: 'TaintToleration', weight: 9 }] } } });
    expect(fwk.scoreWeight('TaintToleration')).toBe(9);
    expect(fwk.listPlugins().score[0]).toBe('TaintToleration');
  });
});

describe('mergePlugins', () => {
  it('appends custom plugins after the defaults of a point', () => {
    const merged = mergePlugins({ filter: { enabled: [{ name: 'A' }, { name: 'B' }] } }, { filter: { enabled: [{ name: 'C' }, { name: 'A', weight: 2 }] } });
    expect(merged.filter?.enabled).toEqual([{ name: 'A', weight: 2 }, { name: 'B' }, { name: 'C' }]);
  });

  it('leaves points the custom set does not mention as they are', () => {
    const defaults = { filter: { enabled: [{ name: 'A' }] } };
    const merged = mergePlugins(defaults, { score: { enabled: [{ name: 'S' }] } });
    expect(merged.filter).toBe(defaults.filter);
    expect(EXTENSION_POINTS).toContain('score');
    expect(merged.score?.enabled).toEqual([{ name: 'S' }]);
  });
});
