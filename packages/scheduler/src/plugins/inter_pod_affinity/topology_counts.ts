/**
 * Counts per topology pair (topologyKey, value): how many matching pods, or how much score weight,
 * each domain holds. Filter and Score look nodes up here instead of walking pods.
 */
import type { Node } from 'kubernetes-types/core/v1.js';

export class TopologyCounts {
  private readonly byKey = new Map<string, Map<string, number>>();

  get size(): number {
    return this.byKey.size;
  }

  get(topologyKey: string, value: string): number {
    return this.byKey.get(topologyKey)?.get(value) ?? 0;
  }

  /** Adds `delta` to the node's domain of `topologyKey`; a node without that label is in no domain. */
  addForNode(node: Node, topologyKey: string, delta: number): void {
    const value = node.metadata?.labels?.[topologyKey];
    if (value !== undefined) this.add(topologyKey, value, delta);
  }

  /** Adds `delta`; a pair that drops back to zero is forgotten, so `size` means "some pair counts". */
  add(topologyKey: string, value: string, delta: number): void {
    let values = this.byKey.get(topologyKey);
    if (values === undefined) {
      values = new Map();
      this.byKey.set(topologyKey, values);
    }
    const total = (values.get(value) ?? 0) + delta;
    if (total !== 0) {
      values.set(value, total);
      return;
    }
    values.delete(value);
    if (values.size === 0) this.byKey.delete(topologyKey);
  }

  /** Whether any of the node's labels names a pair with a positive count. */
  anyPositiveForLabels(labels: Readonly<Record<string, string>>): boolean {
    for (const [key, values] of this.byKey) {
      const value = labels[key];
      if (value !== undefined && (values.get(value) ?? 0) > 0) return true;
    }
    return false;
  }

  /** Sum over the node's labels of the pairs' counts (the node's inter-pod affinity score). */
  sumForLabels(labels: Readonly<Record<string, string>>): number {
    let sum = 0;
    for (const [key, values] of this.byKey) {
      const value = labels[key];
      if (value !== undefined) sum += values.get(value) ?? 0;
    }
    return sum;
  }

  clone(): TopologyCounts {
    const copy = new TopologyCounts();
    for (const [key, values] of this.byKey) copy.byKey.set(key, new Map(values));
    return copy;
  }
}
