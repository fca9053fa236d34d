import { readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { masqueradeRule } from './bridge.js';
import { run, runIgnoring } from './command.js';
import { onPath } from './privileges.js';

/** What the namespaced network built on the node itself, written when the bridge is made. */
export interface NodeNetworkRecord {
  readonly bridgeName: string;
  readonly podCIDR: string;
  readonly nonMasqueradeCIDR: string;
}

export function nodeNetworkRecordPath(rootDir: string): string {
  return join(resolve(rootDir), 'network', 'node.json');
}

const GONE = /Cannot find device|does not exist|not mounted|no mount point specified|No such file|Bad rule|No chain/;

/**
 * Removes everything a namespaced pod network built for an agent's root dir, once the agent and its
 * pods are gone (`k8ts down`, test clean-up): the veths still on its bridge, the bridge, the
 * masquerade rule, the pods' namespaces and the network's state (`<rootDir>/network`). A missing
 * piece is skipped, so it can run after a crash at any point.
 */
export async function removePodNetwork(rootDir: string): Promise<void> {
  const dir = join(resolve(rootDir), 'network');
  let node: NodeNetworkRecord | undefined;
  try {
    node = JSON.parse(await readFile(nodeNetworkRecordPath(rootDir), 'utf8')) as NodeNetworkRecord;
  } catch {
    node = undefined; // no bridge was ever made
  }
  if (node !== undefined) {
    const ports = JSON.parse(await run(['ip', '-j', 'link', 'show', 'master', node.bridgeName]).catch(() => '[]')) as {
      ifname: string;
    }[];
    for (const port of ports) await runIgnoring(['ip', 'link', 'del', port.ifname], GONE);
    await runIgnoring(['ip', 'link', 'del', node.bridgeName], GONE);
    if (await onPath('iptables')) {
      await runIgnoring(['iptables', '-w', '-t', 'nat', '-D', ...masqueradeRule(node.podCIDR, node.nonMasqueradeCIDR)], GONE);
    }
  }
  const nsDir = join(dir, 'ns');
  for (const name of await readdir(nsDir).catch(() => [] as string[])) {
    await runIgnoring(['umount', join(nsDir, name)], GONE);
  }
  await runIgnoring(['umount', nsDir], GONE);
  await rm(dir, { recursive: true, force: true });
}
