/**
 * The plugins a scheduler can build, by name (kube's runtime.Registry). A profile names the plugins it
 * enables; the framework looks each up here and calls its factory once.
 */
import type { PluginFactory } from '../framework/interfaces.js';

export type Registry = Map<string, PluginFactory>;

/** A registry holding both; a name in both is a configuration mistake, so it throws. */
export function mergeRegistries(base: Registry, extra: Registry): Registry {
  const merged: Registry = new Map(base);
  for (const [name, factory] of extra) {
    if (merged.has(name)) throw new Error(`a plugin named "${name}" already exists in the registry`);
    merged.set(name, factory);
  }
  return merged;
}
