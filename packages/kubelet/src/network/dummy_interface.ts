import { isIPv4 } from 'node:net';
import { CommandError, run } from './command.js';

/** Holds a set of addresses as the node's own (kube-proxy's Service IPs, the cluster DNS address). */
export interface AddressHolder {
  /** Makes exactly these IPv4 addresses the interface's; what is held already is left alone. */
  ensure(ips: readonly string[]): Promise<void>;
  /** Deletes the interface and so every address on it. */
  remove(): Promise<void>;
}

const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * A dummy interface; where the kernel has no dummy driver (some VM kernels), a bridge with no ports,
 * which holds local addresses the same way.
 */
async function addInterface(name: string): Promise<void> {
  try {
    await run(['ip', 'link', 'add', name, 'type', 'dummy']);
  } catch (error) {
    if (!(error instanceof CommandError && /Unknown device type/.test(error.stderr))) throw error;
    await run(['ip', 'link', 'add', name, 'type', 'bridge']);
  }
}

/**
 * The addresses on a dummy interface of the node (`kube-ipvs0`, as kube-proxy's IPVS mode names
 * it): traffic to them is delivered locally, to whatever listens there, from the node itself and from
 * pods routed through it. Each change is one `ip -batch` process, whatever the number of addresses.
 */
export function dummyInterfaceAddresses(name = 'kube-ipvs0'): AddressHolder {
  if (!INTERFACE_NAME.test(name)) throw new Error(`invalid interface name ${JSON.stringify(name)}`);
  const held = async (): Promise<Set<string> | undefined> => {
    try {
      const links = JSON.parse(await run(['ip', '-j', '-4', 'addr', 'show', 'dev', name])) as { addr_info?: { local?: string }[] }[];
      return new Set(links.flatMap((link) => (link.addr_info ?? []).map((address) => address.local ?? '')));
    } catch (error) {
      if (error instanceof CommandError && /does not exist|Cannot find device/.test(error.stderr)) return undefined;
      throw error;
    }
  };
  return {
    async ensure(ips) {
      const wanted = new Set(ips);
      for (const ip of wanted) if (!isIPv4(ip)) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
      let current = await held();
      const lines: string[] = [];
      if (current === undefined) {
        await addInterface(name);
        lines.push(`link set ${name} up`);
        current = new Set();
      }
      for (const ip of current) if (!wanted.has(ip)) lines.push(`addr del ${ip}/32 dev ${name}`);
      for (const ip of wanted) if (!current.has(ip)) lines.push(`addr add ${ip}/32 dev ${name}`);
      if (lines.length > 0) await run(['ip', '-batch', '-'], lines.join('\n') + '\n');
    },
    async remove() {
      try {
        await run(['ip', 'link', 'del', name]);
      } catch (error) {
        if (!(error instanceof CommandError && /does not exist|Cannot find device/.test(error.stderr))) throw error;
      }
    },
  };
}
