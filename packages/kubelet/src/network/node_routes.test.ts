import type { Node } from 'kubernetes-types/core/v1.js';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './command.js';
import { desiredNodeRoutes, NodeRoutes } from './node_routes.js';
import { canUseNamespaces } from './privileges.js';

function node(name: string, podCIDR: string | undefined, internalIP: string | undefined): Node {
  return {
    metadata: { name },
    spec: podCIDR === undefined ? {} : { podCIDR },
    status: { addresses: internalIP === undefined ? [{ type: 'Hostname', address: name }] : [{ type: 'InternalIP', address: internalIP }, { type: 'Hostname', address: name }] },
  };
}

describe('desiredNodeRoutes', () => {
  it('routes each other node’s podCIDR via its InternalIP, skipping itself, the incomplete, and nodes on local addresses', () => {
    const nodes = [
      node('b', '10.64.2.0/24', '172.31.0.3'),
      node('a', '10.64.1.0/24', '172.31.0.2'),
      node('c', undefined, '172.31.0.4'), // no podCIDR yet
      node('d', '10.64.4.0/24', undefined), // no InternalIP
      node('e', '10.64.5.0/24', '127.0.0.1'), // shares this network namespace
      node('f', 'fd00::/64', '172.31.0.6'), // not IPv4
    ];
    expect(desiredNodeRoutes(nodes, 'a', new Set(['127.0.0.1', '172.31.0.2']))).toEqual([{ destination: '10.64.2.0/24', via: '172.31.0.3' }]);
    expect(desiredNodeRoutes(nodes, 'b', new Set(['127.0.0.1']))).toEqual([{ destination: '10.64.1.0/24', via: '172.31.0.2' }]);
  });
});

const support = await canUseNamespaces();

describe.skipIf(!support.ok)('NodeRoutes in a network namespace', () => {
  const netns = `k8ts-rt-${randomBytes(4).toString('hex')}`;
  const enter = ['ip', 'netns', 'exec', netns];
  afterAll(() => run(['ip', 'netns', 'del', netns]).catch(() => ''));

  async function routes(): Promise<string[]> {
    const text = await run([...enter, 'ip', '-4', 'route', 'show']);
    return text.trim().split('\n').map((line) => line.trim()).sort();
  }

  it('replaces, moves and deletes only its own routes', async () => {
    await run(['ip', 'netns', 'add', netns]);
    await run([...enter, 'ip', '-batch', '-'], 'link add eth0 type veth peer name peer0\nlink set eth0 up\nlink set peer0 up\naddr add 172.31.0.2/24 dev eth0\nroute add 10.99.0.0/24 via 172.31.0.9\n');
    const routesOf = new NodeRoutes('a', { enter });
    await routesOf.sync([node('a', '10.64.1.0/24', '172.31.0.2'), node('b', '10.64.2.0/24', '172.31.0.3'), node('c', '10.64.3.0/24', '172.31.0.4')]);
    expect(await routes()).toEqual([
      '10.64.2.0/24 via 172.31.0.3 dev eth0 proto 77',
      '10.64.3.0/24 via 172.31.0.4 dev eth0 proto 77',
      '10.99.0.0/24 via 172.31.0.9 dev eth0',
      '172.31.0.0/24 dev eth0 proto kernel scope link src 172.31.0.2',
    ]);
    // Node b moved, c went: b's route follows it, c's goes; the route not ours stays.
    await routesOf.sync([node('a', '10.64.1.0/24', '172.31.0.2'), node('b', '10.64.2.0/24', '172.31.0.5')]);
    expect((await routes()).filter((line) => line.includes('proto 77'))).toEqual([expect.stringMatching(/^10\.64\.2\.0\/24 via 172\.31\.0\.5 dev eth0 proto 77/)]);
    await routesOf.removeAll();
    expect((await routes()).filter((line) => line.includes('proto 77'))).toEqual([]);
    expect(await routes()).toContainEqual(expect.stringMatching(/^10\.99\.0\.0\/24 via 172\.31\.0\.9/));
  });
});
