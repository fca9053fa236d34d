import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { Event, Node } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually, withManager } from './control_plane.js';

/**
 * Node IPAM's range allocator against a real store, apiserver and k8ts-controller-manager
 * (--controllers nodeipam --allocate-node-cidrs): distinct /24s from 10.244.0.0/16, none handed out
 * twice across kill -9 and restarts, and a full range reported and then served when a node goes.
 */

const IPAM_FLAGS = ['--allocate-node-cidrs', '--cluster-cidr', '10.244.0.0/16', '--node-cidr-mask-size', '24'];

let plane: ControlPlane;
let nodes: ResourceClient<Node & KubeObject>;

async function createNode(name: string, podCIDR?: string): Promise<void> {
  await nodes.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: podCIDR === undefined ? {} : { podCIDR, podCIDRs: [podCIDR] },
  });
}

/** Every node's podCIDR, once all of `names` have one. */
async function cidrsOnceAllHaveOne(names: readonly string[], timeoutMs = 60_000): Promise<Map<string, string>> {
  const cidrs = new Map<string, string>();
  await eventually(
    async () => {
      cidrs.clear();
      for (const node of (await nodes.list()).items) if (node.spec?.podCIDR) cidrs.set(node.metadata?.name ?? '', node.spec.podCIDR);
      return names.every((name) => cidrs.has(name));
    },
    timeoutMs,
    `podCIDRs of ${names.join(', ')}`,
  );
  return cidrs;
}

function expectDistinctSlash24s(cidrs: Map<string, string>): void {
  const values = [...cidrs.values()];
  expect(new Set(values).size).toBe(values.length);
  for (const cidr of values) expect(cidr).toMatch(/^10\.244\.(\d{1,3})\.0\/24$/);
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('node IPAM', () => {
  test('every node gets a distinct /24 from 10.244.0.0/16, none handed out twice across kill -9 and restarts', async () => {
    // A node that got its CIDR from an earlier manager: it must never be handed out again.
    await createNode('veteran', '10.244.0.0/24');
    const batch = Array.from({ length: 12 }, (_, i) => `node-${i}`);
    for (const name of batch) await createNode(name);

    // Killed -9 as soon as it has started writing: the next replica finishes what it left.
    const first = await plane.startManager('nodeipam', IPAM_FLAGS);
    await withManager(first, async () => {
      await eventually(async () => (await nodes.list()).items.some((node) => node.metadata?.name !== 'veteran' && node.spec?.podCIDR), 60_000, 'first CIDR written');
    });
    const second = await plane.startManager('nodeipam', IPAM_FLAGS);
    await withManager(second, async () => {
      const cidrs = await cidrsOnceAllHaveOne(['veteran', ...batch]);
      expectDistinctSlash24s(cidrs);
      expect(cidrs.get('veteran')).toBe('10.244.0.0/24');
      for (const name of batch) expect((await nodes.get(name)).spec?.podCIDRs).toEqual([cidrs.get(name)]);
    });

    // While no manager runs, a node goes (its CIDR freed in nobody's memory) and one comes.
    await nodes.delete('node-3');
    await createNode('late');
    const third = await plane.startManager('nodeipam', IPAM_FLAGS);
    await withManager(third, async () => {
      const cidrs = await cidrsOnceAllHaveOne(['late']);
      expectDistinctSlash24s(cidrs);
    });
  }, 180_000);

  test('a full range gets CIDRNotAvailable; a node deleted frees its CIDR for the one waiting', async () => {
    // A range of two /24s, beside the nodes already holding 10.244.x.0/24 (outside it: ignored).
    const manager = await plane.startManager('nodeipam', ['--allocate-node-cidrs', '--cluster-cidr', '10.250.0.0/23', '--node-cidr-mask-size', '24']);
    await withManager(manager, async () => {
      await createNode('small-a');
      await createNode('small-b');
      const cidrs = await cidrsOnceAllHaveOne(['small-a', 'small-b']);
      expect(new Set([cidrs.get('small-a'), cidrs.get('small-b')])).toEqual(new Set(['10.250.0.0/24', '10.250.1.0/24']));
      await createNode('small-c');
      const events = plane.client.resource<Event & KubeObject>('', 'v1', 'events').namespace('default');
      await eventually(
        async () =>
          (await events.list()).items.some(
            (event) => event.involvedObject?.name === 'small-c' && event.reason === 'CIDRNotAvailable' && event.message === 'Node small-c status is now: CIDRNotAvailable',
          ),
        60_000,
        'CIDRNotAvailable for small-c',
      );
      expect((await nodes.get('small-c')).spec?.podCIDR).toBeUndefined();
      await nodes.delete('small-a');
      const after = await cidrsOnceAllHaveOne(['small-c']);
      expect(after.get('small-c')).toBe(cidrs.get('small-a'));
    });
  }, 120_000);
});
