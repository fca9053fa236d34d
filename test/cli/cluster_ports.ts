import { nodeSubnet } from '../../packages/cli/src/cluster_nodes.js';
import { portFree, runCommand } from '@k8ts/testkit';

/**
 * A base port for `k8ts up --base-port B` in a test: between 20000 and 29999, below Linux's
 * ephemeral range and above the ports freePorts() hands out, with every port the cluster takes
 * free (see `k8ts up --help`) and, for nodes in node hosts, no route over the node subnet it would
 * take (suites run side by side).
 */
export async function freeBasePort(options: { nodes: number; simulatedNodes?: number }): Promise<number> {
  const offsets = [1, 2, 3, 11, 12, 13, 20, 21, 22, 25, 31, 32, 41, 42, 51, 52, 60, 61];
  if ((options.simulatedNodes ?? 0) > 0) offsets.push(62, 63);
  for (let node = 1; node <= options.nodes; node++) offsets.push(100 + 2 * node, 101 + 2 * node);
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + 100 * Math.floor(Math.random() * 100);
    const portsFree = (await Promise.all(offsets.map((offset) => portFree(base + offset)))).every(Boolean);
    if (portsFree && (options.nodes === 0 || (await subnetFree(nodeSubnet(base))))) return base;
  }
  throw new Error('no free base port found');
}

async function subnetFree(subnet: string): Promise<boolean> {
  const routes = await runCommand('ip', ['-4', 'route', 'show', 'match', subnet]);
  // `match` lists every route that covers the subnet: only a default route may.
  return routes.code === 0 && routes.stdout.split('\n').every((line) => line.trim() === '' || line.startsWith('default'));
}
