/**
 * Helpers for the runtime's tests: a lister over fixed NodeInfos, deps that do nothing, and a
 * Framework built straight from plugin objects. Test-only (not exported from the package).
 */
import type { NodeInfoLister, Plugin } from '../framework/interfaces.js';
import type { NodeInfo } from '../framework/node_info.js';
import { Status } from '../framework/status.js';
import { Framework, type FrameworkHandleDeps } from './framework.js';
import { implementsPoint } from './placement.js';
import type { PluginRef, Plugins } from './profile.js';
import type { Registry } from './registry.js';

export function listerOf(nodes: readonly NodeInfo[]): NodeInfoLister {
  const byName = new Map(nodes.map((nodeInfo) => [nodeInfo.name, nodeInfo]));
  return {
    list: () => nodes,
    get: (name) => byName.get(name),
    havePodsWithAffinityList: () => nodes.filter((nodeInfo) => nodeInfo.podsWithAffinity.length > 0),
    havePodsWithRequiredAntiAffinityList: () => nodes.filter((nodeInfo) => nodeInfo.podsWithRequiredAntiAffinity.length > 0),
  };
}

export function depsOver(nodes: readonly NodeInfo[], overrides: Partial<FrameworkHandleDeps> = {}): FrameworkHandleDeps {
  const lister = listerOf(nodes);
  return {
    snapshot: () => lister,
    namespaceLabels: () => undefined,
    evictPod: async () => {},
    nominatedPodsForNode: () => [],
    ...overrides,
  };
}

/** A Bind plugin that accepts everything, for profiles whose test is about something else. */
export const NOOP_BINDER: Plugin & { bind(): Promise<Status> } = { name: 'NoopBinder', bind: async () => Status.success() };

export interface FrameworkOptions {
  nodes?: readonly NodeInfo[];
  deps?: Partial<FrameworkHandleDeps>;
  weights?: Record<string, number>;
  percentageOfNodesToScore?: number;
}

/** A Framework running `plugins` through multiPoint in the given order (plus a binder if none binds). */
export function frameworkWith(plugins: readonly Plugin[], options: FrameworkOptions = {}): Framework {
  const all = plugins.some((plugin) => implementsPoint(plugin, 'bind')) ? plugins : [...plugins, NOOP_BINDER];
  const registry: Registry = new Map(all.map((plugin) => [plugin.name, () => plugin]));
  const enabled: PluginRef[] = all.map(({ name }) => {
    const weight = options.weights?.[name];
    return weight === undefined ? { name } : { name, weight };
  });
  const profilePlugins: Plugins = { multiPoint: { enabled } };
  const percentage = options.percentageOfNodesToScore;
  return new Framework(
    { schedulerName: 'test-scheduler', plugins: profilePlugins, ...(percentage !== undefined ? { percentageOfNodesToScore: percentage } : {}) },
    registry,
    depsOver(options.nodes ?? [], options.deps),
  );
}
