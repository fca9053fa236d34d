import { describe, expect, it } from 'vitest';
import type { DefaultPreemption } from '../plugins/default_preemption/index.js';
import { Framework } from '../runtime/framework.js';
import { DEFAULT_PLUGINS, type Profile } from '../runtime/profile.js';
import { depsOver } from '../runtime/test_support.js';
import { SimCluster } from '../testing/sim_cluster.js';
import { CONFIGURATION_API_VERSION, parseSchedulerConfiguration } from './configuration.js';
import { inTreeRegistry } from './in_tree_registry.js';
import { Scheduler } from './scheduler.js';

const HEADER = `apiVersion: ${CONFIGURATION_API_VERSION}\nkind: KubeSchedulerConfiguration\n`;

function frameworkOf(profile: Profile): Framework {
  return new Framework(profile, inTreeRegistry(new SimCluster().writer()), depsOver([]));
}

describe('parseSchedulerConfiguration', () => {
  it('gives one default-scheduler profile with the default plugins when there is no file', () => {
    const expected = {
      profiles: [{ schedulerName: 'default-scheduler', plugins: DEFAULT_PLUGINS }],
      percentageOfNodesToScore: 0,
      podInitialBackoffMs: 1_000,
      podMaxBackoffMs: 10_000,
    };
    expect(parseSchedulerConfiguration()).toEqual(expected);
    expect(parseSchedulerConfiguration(HEADER)).toEqual(expected);
  });

  it('reads scheduler-wide settings and profiles with their own name, plugins and percentage', () => {
    const configuration = parseSchedulerConfiguration(`${HEADER}
percentageOfNodesToScore: 50
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
profiles:
  - schedulerName: default-scheduler
  - schedulerName: no-spread
    percentageOfNodesToScore: 30
    plugins:
      multiPoint:
        disabled:
          - name: PodTopologySpread
      score:
        disabled:
          - name: NodeResourcesBalancedAllocation
        enabled:
          - name: NodeResourcesFit
            weight: 5
`);
    expect(configuration.percentageOfNodesToScore).toBe(50);
    expect(configuration.podInitialBackoffMs).toBe(2_000);
    expect(configuration.podMaxBackoffMs).toBe(20_000);
    expect(configuration.profiles.map((profile) => profile.schedulerName)).toEqual(['default-scheduler', 'no-spread']);

    const [defaults, noSpread] = configuration.profiles.map(frameworkOf);
    expect(defaults!.listPlugins().filter).toContain('PodTopologySpread');
    expect(defaults!.percentageOfNodesToScore).toBeUndefined();

    const plugins = noSpread!.listPlugins();
    expect(noSpread!.percentageOfNodesToScore).toBe(30);
    expect(plugins.filter).toEqual(['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'InterPodAffinity']);
    expect(plugins.score).not.toContain('PodTopologySpread');
    expect(plugins.score).not.toContain('NodeResourcesBalancedAllocation');
    expect(noSpread!.scoreWeight('NodeResourcesFit')).toBe(5);
    expect(plugins.postFilter).toEqual(['DefaultPreemption']);
    expect(plugins.bind).toEqual(['DefaultBinder']);
  });

  it('hands pluginConfig args to the plugins, without their apiVersion and kind', () => {
    const configuration = parseSchedulerConfiguration(`${HEADER}
profiles:
  - pluginConfig:
      - name: DefaultPreemption
        args:
          apiVersion: kubescheduler.config.k8s.io/v1
          kind: DefaultPreemptionArgs
          minCandidateNodesPercentage: 20
          minCandidateNodesAbsolute: 10
`);
    const profile = configuration.profiles[0]!;
    expect(profile.pluginConfig).toEqual([{ name: 'DefaultPreemption', args: { minCandidateNodesPercentage: 20, minCandidateNodesAbsolute: 10 } }]);
    const preemption = frameworkOf(profile).plugin('DefaultPreemption') as DefaultPreemption;
    expect(preemption.args).toEqual({ minCandidateNodesPercentage: 20, minCandidateNodesAbsolute: 10 });
  });

  it.each([
    {
      name: 'an older apiVersion',
      text: 'apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n',
      error: 'scheduler configuration: apiVersion must be kubescheduler.config.k8s.io/v1, got kubescheduler.config.k8s.io/v1beta3',
    },
    { name: 'no apiVersion', text: 'kind: KubeSchedulerConfiguration\n', error: 'scheduler configuration: apiVersion must be kubescheduler.config.k8s.io/v1, got undefined' },
    {
      name: 'another kind',
      text: `apiVersion: ${CONFIGURATION_API_VERSION}\nkind: KubeProxyConfiguration\n`,
      error: 'scheduler configuration: kind must be KubeSchedulerConfiguration, got KubeProxyConfiguration',
    },
    { name: 'not a mapping', text: '- profiles\n', error: 'scheduler configuration: expected a YAML mapping' },
    {
      name: 'a percentage over 100',
      text: `${HEADER}percentageOfNodesToScore: 101\n`,
      error: 'scheduler configuration: percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]',
    },
    {
      name: 'a negative percentage',
      text: `${HEADER}percentageOfNodesToScore: -1\n`,
      error: 'scheduler configuration: percentageOfNodesToScore: Invalid value: -1: not in valid range [0-100]',
    },
    {
      name: 'a fractional percentage',
      text: `${HEADER}percentageOfNodesToScore: 12.5\n`,
      error: 'scheduler configuration: percentageOfNodesToScore: Invalid value: 12.5: not in valid range [0-100]',
    },
    {
      name: "a profile's percentage over 100",
      text: `${HEADER}profiles:\n  - percentageOfNodesToScore: 150\n`,
      error: 'scheduler configuration: profiles[0].percentageOfNodesToScore: Invalid value: 150: not in valid range [0-100]',
    },
    {
      name: 'a max backoff below the initial one',
      text: `${HEADER}podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2\n`,
      error: 'scheduler configuration: podMaxBackoffSeconds must be greater than or equal to podInitialBackoffSeconds',
    },
    {
      name: 'duplicate scheduler names',
      text: `${HEADER}profiles:\n  - schedulerName: batch\n  - schedulerName: batch\n`,
      error: 'scheduler configuration: profiles[1].schedulerName: Duplicate value: "batch"',
    },
    {
      name: 'two profiles defaulting to the same name',
      text: `${HEADER}profiles:\n  - {}\n  - {}\n`,
      error: 'scheduler configuration: profiles[1].schedulerName: Duplicate value: "default-scheduler"',
    },
    { name: 'no profiles', text: `${HEADER}profiles: []\n`, error: 'scheduler configuration: profiles must be a non-empty list' },
    { name: 'an empty schedulerName', text: `${HEADER}profiles:\n  - schedulerName: ""\n`, error: 'scheduler configuration: profiles[0].schedulerName must be a non-empty string' },
    { name: 'a pluginConfig that is not a list', text: `${HEADER}profiles:\n  - pluginConfig: {}\n`, error: 'scheduler configuration: profiles[0].pluginConfig must be a list' },
  ])('refuses $name', ({ text, error }) => {
    expect(() => parseSchedulerConfiguration(text)).toThrow(error);
  });

  it('leaves plugin args to the plugins: a Scheduler built with invalid ones refuses to start', () => {
    const configuration = parseSchedulerConfiguration(`${HEADER}
profiles:
  - pluginConfig:
      - name: DefaultPreemption
        args:
          minCandidateNodesPercentage: 101
`);
    expect(() => new Scheduler({ configuration, writer: new SimCluster().writer() })).toThrow('minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]');
  });
});
