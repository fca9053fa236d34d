import type { Logger } from 'pino';
import { readFile, writeFile } from 'node:fs/promises';
import { CommandError, run } from './command.js';
import { onPath } from './privileges.js';

/**
 * The node side of the pod network: a bridge holding the gateway address of the podCIDR (so the
 * node reaches its pods, and pods leave through it), IP forwarding, and masquerading of traffic that
 * leaves the pod CIDR, where iptables exists. Every step is idempotent: an agent restarting over an
 * existing bridge keeps it (and its pods' veths on it).
 */
export async function ensureBridge(name: string, gatewayCidr: string, mtu: number): Promise<void> {
  try {
    await run(['ip', 'link', 'add', name, 'mtu', String(mtu), 'type', 'bridge']);
  } catch (error) {
    if (!(error instanceof CommandError && /File exists/.test(error.stderr))) throw error;
  }
  await run(['ip', 'addr', 'replace', gatewayCidr, 'dev', name]);
  await run(['ip', 'link', 'set', name, 'up']);
}

/**
 * The MTU of the interface holding `ip` (the node's), to give the bridge and the veths the same; none
 * for loopback (a node on 127.0.0.1 in tests), whose 65536 no bridge or veth can take.
 */
export async function interfaceMtu(ip: string): Promise<number | undefined> {
  const links = JSON.parse(await run(['ip', '-j', '-4', 'addr', 'show'])) as {
    flags?: string[];
    mtu?: number;
    addr_info?: { local?: string }[];
  }[];
  const link = links.find((candidate) => candidate.addr_info?.some((address) => address.local === ip));
  return link === undefined || link.flags?.includes('LOOPBACK') ? undefined : link.mtu;
}

/** Turns on net.ipv4.ip_forward (per network namespace: the agent's) so pod traffic can be routed. */
export async function enableIpForwarding(logger?: Logger): Promise<void> {
  const path = '/proc/sys/net/ipv4/ip_forward';
  try {
    if ((await readFile(path, 'utf8')).trim() !== '1') await writeFile(path, '1');
  } catch (error) {
    // A container may have /proc/sys read-only: pods still reach each other and the node.
    logger?.warn({ err: error }, 'pod network: cannot enable net.ipv4.ip_forward; pods cannot be routed beyond the node');
  }
}

/**
 * Masquerades what pods send beyond the cluster, as the kubelet's `--non-masquerade-cidr` (default
 * 10.0.0.0/8) did: traffic to other pods (and Services) keeps the pod's address, so pods on other
 * nodes see who called. Needs iptables (either backend); without it, pods leave the node with their
 * own address, which only the cluster's routes (the networking issue's) carry back.
 */
export async function ensureMasquerade(podCIDR: string, nonMasqueradeCIDR: string, logger?: Logger): Promise<boolean> {
  if (!(await onPath('iptables'))) {
    logger?.info({ podCIDR }, 'pod network: no iptables on PATH; traffic leaving the cluster is not masqueraded');
    return false;
  }
  const rule = masqueradeRule(podCIDR, nonMasqueradeCIDR);
  try {
    await run(['iptables', '-w', '-t', 'nat', '-C', ...rule]);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    await run(['iptables', '-w', '-t', 'nat', '-A', ...rule]);
  }
  return true;
}

/** The POSTROUTING rule (without `-A`/`-C`/`-D`): from the pod CIDR to outside the cluster's. */
export function masqueradeRule(podCIDR: string, nonMasqueradeCIDR: string): string[] {
  return ['POSTROUTING', '-s', podCIDR, '!', '-d', nonMasqueradeCIDR, '-j', 'MASQUERADE'];
}
