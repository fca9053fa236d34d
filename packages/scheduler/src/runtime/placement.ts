/**
 * Which plugin runs where, from a profile: one instance per plugin the profile names, placed at each
 * extension point it implements (multiPoint) or is named at, in upstream's order, with score weights.
 */
import type { Handle, Plugin } from '../framework/interfaces.js';
import { EXTENSION_POINTS, type ExtensionPoint, type PluginRef, type Profile } from './profile.js';
import type { Registry } from './registry.js';

const POINT_METHODS: Record<ExtensionPoint, readonly string[]> = {
  preFilter: ['preFilter'],
  filter: ['filter'],
  postFilter: ['postFilter'],
  preScore: ['preScore'],
  score: ['score'],
  reserve: ['reserve', 'unreserve'],
  permit: ['permit'],
  bind: ['bind'],
};

/** Whether the plugin has the methods of the point (TypeScript's stand-in for Go's interface check). */
export function implementsPoint(plugin: Plugin, point: ExtensionPoint): boolean {
  const methods = plugin as unknown as Record<string, unknown>;
  return POINT_METHODS[point].every((method) => typeof methods[method] === 'function');
}

const EMPTY_ARGS: Readonly<Record<string, unknown>> = Object.freeze({});

/** One instance per plugin the profile names anywhere, built with its pluginConfig args. */
export function instantiatePlugins(profile: Profile, registry: Registry, handle: Handle): Map<string, Plugin> {
  const args = new Map<string, Readonly<Record<string, unknown>>>();
  for (const { name, args: pluginArgs } of profile.pluginConfig ?? []) {
    if (args.has(name)) throw new Error(`repeated config for plugin ${name}`);
    args.set(name, pluginArgs);
  }
  const plugins = new Map<string, Plugin>();
  for (const point of ['multiPoint', ...EXTENSION_POINTS] as const) {
    for (const { name } of profile.plugins[point]?.enabled ?? []) {
      if (plugins.has(name)) continue;
      const factory = registry.get(name);
      if (factory === undefined) throw new Error(`plugin "${name}" does not exist in the registry`);
      const plugin = factory(args.get(name) ?? EMPTY_ARGS, handle);
      if (plugin.name !== name) throw new Error(`plugin registered as "${name}" calls itself "${plugin.name}"`);
      plugins.set(name, plugin);
    }
  }
  return plugins;
}

/**
 * The plugins of one point, as upstream orders them: plugins named at this point that multiPoint
 * also names (an explicit override), then multiPoint's other plugins that implement the point, then
 * the rest named at this point. disabled '*' at the point turns multiPoint off there.
 */
export function pluginsAt(profile: Profile, plugins: ReadonlyMap<string, Plugin>, point: ExtensionPoint): Plugin[] {
  const set = profile.plugins[point];
  const named: string[] = [];
  for (const { name } of set?.enabled ?? []) {
    if (!implementsPoint(plugins.get(name)!, point)) throw new Error(`plugin "${name}" does not extend ${point} plugin`);
    if (named.includes(name)) throw new Error(`plugin "${name}" already registered as ${point} plugin`);
    named.push(name);
  }
  const disabled = new Set((set?.disabled ?? []).map(({ name }) => name));
  const overrides = new Set<string>();
  const fromMultiPoint: string[] = [];
  if (!disabled.has('*')) {
    for (const { name } of profile.plugins.multiPoint?.enabled ?? []) {
      if (!implementsPoint(plugins.get(name)!, point) || disabled.has(name)) continue;
      if (named.includes(name)) overrides.add(name);
      else if (fromMultiPoint.includes(name)) throw new Error(`plugin "${name}" already registered as ${point} plugin`);
      else fromMultiPoint.push(name);
    }
  }
  const order = [...named.filter((name) => overrides.has(name)), ...fromMultiPoint, ...named.filter((name) => !overrides.has(name))];
  return order.map((name) => plugins.get(name)!);
}

/** Weights of the scoring plugins: one set at the Score point wins over multiPoint's; 0 or none means 1. */
export function scoreWeights(profile: Profile, plugins: ReadonlyMap<string, Plugin>): Map<string, number> {
  const weights = new Map<string, number>();
  const refs: PluginRef[] = [...(profile.plugins.score?.enabled ?? []), ...(profile.plugins.multiPoint?.enabled ?? [])];
  for (const { name, weight } of refs) {
    if (weights.has(name) || !implementsPoint(plugins.get(name)!, 'score')) continue;
    if (weight !== undefined && !(Number.isInteger(weight) && weight >= 0)) throw new Error(`score plugin "${name}" has invalid weight ${weight}`);
    weights.set(name, weight || 1);
  }
  return weights;
}
