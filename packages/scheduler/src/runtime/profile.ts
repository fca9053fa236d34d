/**
 * A scheduling profile, shaped after one entry of KubeSchedulerConfiguration v1 `profiles`: which
 * plugins run at which extension point, their score weights and arguments, and how many nodes a
 * cycle looks at. `multiPoint` enables a plugin at every extension point it implements.
 */

/** The extension points a profile configures (queue sort and pre-enqueue belong to the queue). */
export const EXTENSION_POINTS = ['preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'bind'] as const;
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

export interface PluginRef {
  readonly name: string;
  /** Score weight; 0 or absent counts as 1. Read only where the plugin scores. */
  readonly weight?: number;
}

export interface PluginSet {
  readonly enabled?: readonly PluginRef[];
  /** Default plugins to drop from this point; `{name: '*'}` drops them all. */
  readonly disabled?: readonly PluginRef[];
}

export type Plugins = { readonly multiPoint?: PluginSet } & { readonly [P in ExtensionPoint]?: PluginSet };

export interface PluginConfig {
  readonly name: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface Profile {
  readonly schedulerName: string;
  readonly plugins: Plugins;
  readonly pluginConfig?: readonly PluginConfig[];
  /** 0 = adaptive (50% minus 1% per 125 nodes, at least 5%); absent = the scheduler-wide value. */
  readonly percentageOfNodesToScore?: number;
}

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/**
 * kube-scheduler v1.32's default plugins (apis/config/v1/default_plugins.go), in its order and with its
 * score weights, minus what k8ts has no counterpart for (OMITTED_DEFAULT_PLUGINS). The framework places
 * each at the points it implements, so Filter runs NodeUnschedulable, NodeName, TaintToleration,
 * NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity in that order.
 */
export const DEFAULT_PLUGINS: Plugins = deepFreeze({
  multiPoint: {
    enabled: [
      { name: 'NodeUnschedulable' },
      { name: 'NodeName' },
      { name: 'TaintToleration', weight: 3 },
      { name: 'NodeAffinity', weight: 2 },
      { name: 'NodePorts' },
      { name: 'NodeResourcesFit', weight: 1 },
      { name: 'PodTopologySpread', weight: 2 },
      { name: 'InterPodAffinity', weight: 2 },
      { name: 'DefaultPreemption' },
      { name: 'NodeResourcesBalancedAllocation', weight: 1 },
      { name: 'DefaultBinder' },
    ],
  },
});

/**
 * Upstream defaults left out: the queue owns SchedulingGates (PreEnqueue) and PrioritySort (QueueSort);
 * k8ts has no volumes, images or dynamic resources for the others to decide on.
 */
export const OMITTED_DEFAULT_PLUGINS: readonly string[] = Object.freeze([
  'SchedulingGates',
  'PrioritySort',
  'VolumeRestrictions',
  'EBSLimits',
  'GCEPDLimits',
  'NodeVolumeLimits',
  'AzureDiskLimits',
  'VolumeBinding',
  'VolumeZone',
  'ImageLocality',
  'DynamicResources',
]);

/** A profile with the default plugins merged under `plugins`, as kube-scheduler defaults its config. */
export function profileWithDefaults(profile: Partial<Profile> = {}): Profile {
  return {
    ...profile,
    schedulerName: profile.schedulerName ?? DEFAULT_SCHEDULER_NAME,
    plugins: mergePlugins(DEFAULT_PLUGINS, profile.plugins),
  };
}

/**
 * Custom plugin sets over default ones, point by point: a custom entry naming a default plugin replaces
 * it in place (new weight, same position), other custom entries go after the defaults, and `disabled`
 * drops defaults ('*' all of them). Disabled names are kept so that multiPoint expansion skips them.
 */
export function mergePlugins(defaults: Plugins, custom: Plugins | undefined): Plugins {
  if (custom === undefined) return defaults;
  const merged: { -readonly [P in keyof Plugins]: PluginSet } = {};
  for (const point of ['multiPoint', ...EXTENSION_POINTS] as const) {
    const set = mergePluginSet(defaults[point], custom[point]);
    if (set !== undefined) merged[point] = set;
  }
  return merged;
}

function mergePluginSet(defaults: PluginSet | undefined, custom: PluginSet | undefined): PluginSet | undefined {
  if (custom === undefined) return defaults;
  const disabled = [...(custom.disabled ?? []), ...(defaults?.disabled ?? [])].map(({ name }) => ({ name }));
  const disabledNames = new Set(disabled.map(({ name }) => name));
  const customByName = new Map((custom.enabled ?? []).map((ref, index) => [ref.name, { ref, index }]));
  const replaced = new Set<number>();
  const enabled: PluginRef[] = [];
  if (!disabledNames.has('*')) {
    for (const ref of defaults?.enabled ?? []) {
      if (disabledNames.has(ref.name)) continue;
      const override = customByName.get(ref.name);
      if (override !== undefined) replaced.add(override.index);
      enabled.push(override?.ref ?? ref);
    }
  }
  (custom.enabled ?? []).forEach((ref, index) => {
    if (!replaced.has(index)) enabled.push(ref);
  });
  return { enabled, disabled };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
