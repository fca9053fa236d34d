import type { Node } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { NodeTree, zoneKey } from './node_tree.js';

function labelled(name: string, labels: Record<string, string> = {}): Node {
  return { metadata: { name, labels } };
}

describe('zoneKey', () => {
  it.each([
    { name: 'no labels', labels: {}, expected: '' },
    { name: 'GA zone', labels: { 'topology.kubernetes.io/zone': 'a' }, expected: ':\u0000:a' },
    { name: 'region and zone', labels: { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'a' }, expected: 'r:\u0000:a' },
    { name: 'beta labels', labels: { 'failure-domain.beta.kubernetes.io/region': 'r', 'failure-domain.beta.kubernetes.io/zone': 'b' }, expected: 'r:\u0000:b' },
    { name: 'GA wins over beta', labels: { 'topology.kubernetes.io/zone': 'a', 'failure-domain.beta.kubernetes.io/zone': 'b' }, expected: ':\u0000:a' },
  ])('$name', ({ labels, expected }) => {
    expect(zoneKey(labelled('n', labels))).toBe(expected);
  });
});

describe('NodeTree', () => {
  const zone = (name: string, z: string): Node => labelled(name, { 'topology.kubernetes.io/zone': z });

  it('lists round-robin across zones and keeps count through adds and removes', () => {
    const tree = new NodeTree();
    for (const n of [zone('a1', 'a'), zone('a2', 'a'), zone('b1', 'b'), zone('c1', 'c'), zone('c2', 'c'), zone('a3', 'a')]) tree.addNode(n);
    tree.addNode(zone('a1', 'a')); // already there
    expect(tree.numNodes).toBe(6);
    expect(tree.list()).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
    expect(tree.removeNode(zone('b1', 'b'))).toBe(true);
    expect(tree.removeNode(zone('b1', 'b'))).toBe(false);
    expect(tree.list()).toEqual(['a1', 'c1', 'a2', 'c2', 'a3']);
  });

  it('moves a node whose zone changed', () => {
    const tree = new NodeTree();
    tree.addNode(zone('x', 'a'));
    tree.addNode(zone('y', 'b'));
    const before = tree.version;
    tree.updateNode(zone('x', 'a'), zone('x', 'a'));
    expect(tree.version).toBe(before);
    tree.updateNode(zone('x', 'a'), zone('x', 'b'));
    expect(tree.list()).toEqual(['y', 'x']);
    expect(tree.numNodes).toBe(2);
  });
});
