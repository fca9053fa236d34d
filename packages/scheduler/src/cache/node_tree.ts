/**
 * Node names grouped by zone, listed round-robin across zones (kube's nodeTree). The snapshot's node
 * order comes from here, so that a cycle that stops after enough feasible nodes still sees every zone.
 */
import type { Node } from 'kubernetes-types/core/v1.js';

const ZONE_LABEL = 'topology.kubernetes.io/zone';
const REGION_LABEL = 'topology.kubernetes.io/region';
const BETA_ZONE_LABEL = 'failure-domain.beta.kubernetes.io/zone';
const BETA_REGION_LABEL = 'failure-domain.beta.kubernetes.io/region';

/** The node's region and zone as one key; "" when it has neither (GA labels first, then beta ones). */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const zone = labels[ZONE_LABEL] ?? labels[BETA_ZONE_LABEL] ?? '';
  const region = labels[REGION_LABEL] ?? labels[BETA_REGION_LABEL] ?? '';
  if (zone === '' && region === '') return '';
  // A separator no label value contains, so "a:" + "b" and "a" + ":b" differ.
  return `${region}:\u0000:${zone}`;
}

export class NodeTree {
  /** Zone key → node names, in the order the nodes were added. */
  private readonly tree = new Map<string, string[]>();
  private count = 0;
  /** Grows whenever list() would answer differently. */
  version = 0;

  get numNodes(): number {
    return this.count;
  }

  addNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const zone = zoneKey(node);
    const names = this.tree.get(zone);
    if (names === undefined) this.tree.set(zone, [name]);
    else if (names.includes(name)) return;
    else names.push(name);
    this.count++;
    this.version++;
  }

  /** False when the node was not in the tree. */
  removeNode(node: Node): boolean {
    const name = node.metadata?.name ?? '';
    const zone = zoneKey(node);
    const names = this.tree.get(zone);
    const at = names?.indexOf(name) ?? -1;
    if (names === undefined || at < 0) return false;
    names.splice(at, 1);
    if (names.length === 0) this.tree.delete(zone);
    this.count--;
    this.version++;
    return true;
  }

  updateNode(oldNode: Node | undefined, newNode: Node): void {
    if (oldNode !== undefined && zoneKey(oldNode) === zoneKey(newNode)) return;
    if (oldNode !== undefined) this.removeNode(oldNode);
    this.addNode(newNode);
  }

  /** One node of each zone in turn (zones in the order first seen), until every zone runs out. */
  list(): string[] {
    const zones = [...this.tree.values()];
    const names: string[] = [];
    for (let index = 0; names.length < this.count; index++) {
      for (const zone of zones) {
        const name = zone[index];
        if (name !== undefined) names.push(name);
      }
    }
    return names;
  }
}
