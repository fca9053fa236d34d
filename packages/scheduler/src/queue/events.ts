/**
 * Which cluster events may make a rejected pod schedulable again: a pod waits in unschedulablePods
 * until an event that one of its rejecting plugins registered (EnqueueExtensions) happens.
 */
import type { ClusterEvent } from '../framework/interfaces.js';

/** Plugin name → the events that can undo its rejections. */
export type PluginEvents = ReadonlyMap<string, readonly ClusterEvent[]>;

export function sameEvent(a: ClusterEvent, b: ClusterEvent): boolean {
  return a.resource === b.resource && a.action === b.action;
}

/**
 * True when `event` may help a pod rejected by `rejectors`. No rejector (the attempt failed with an
 * error) or a rejector that registered nothing we know of counts as interested in every event, as
 * upstream registers every event for plugins without EnqueueExtensions.
 */
export function eventMayHelp(event: ClusterEvent, rejectors: ReadonlySet<string>, registered: PluginEvents): boolean {
  if (rejectors.size === 0) return true;
  for (const plugin of rejectors) {
    const events = registered.get(plugin);
    if (events === undefined) return true;
    if (events.some((candidate) => sameEvent(candidate, event))) return true;
  }
  return false;
}

/** Builds the registry from plugins that may implement EnqueueExtensions. */
export function pluginEventsOf(plugins: Iterable<{ name: string; eventsToRegister?: () => ClusterEvent[] }>): Map<string, ClusterEvent[]> {
  const registry = new Map<string, ClusterEvent[]>();
  for (const plugin of plugins) {
    if (plugin.eventsToRegister !== undefined) registry.set(plugin.name, plugin.eventsToRegister());
  }
  return registry;
}
