import type { Node } from 'kubernetes-types/core/v1.js';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { run } from './command.js';
import { parseIpv4Cidr } from './ipv4.js';

/** Routes this agent writes carry this protocol number, so it finds (and removes) its own and no others. */
export const NODE_ROUTE_PROTOCOL = 77;

export interface NodeRoute {
  /** Another node's podCIDR. */
  readonly destination: string;
  /** That node's InternalIP. */
  readonly via: string;
}

/**
 * The routes to other nodes' pods, as kind's network daemon (kindnet) writes them: each other
 * node's podCIDR via its InternalIP, which this node reaches directly (one L2 network, no overlay).
 * Nodes without a podCIDR or an InternalIP are skipped, and so are nodes whose InternalIP is an
 * address of this network namespace: agents sharing one (tests, a local cluster without privileges)
 * reach each other's bridges through the bridges' own routes.
 */
export function desiredNodeRoutes(nodes: readonly Node[], selfName: string, localAddresses: ReadonlySet<string>): NodeRoute[] {
  const routes: NodeRoute[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name;
    const podCIDR = node.spec?.podCIDR;
    const internalIP = node.status?.addresses?.find((address) => address.type === 'InternalIP')?.address;
    if (name === selfName || podCIDR === undefined || internalIP === undefined || localAddresses.has(internalIP)) continue;
    try {
      parseIpv4Cidr(podCIDR);
    } catch {
      continue; // not an IPv4 network address: nothing this node can route
    }
    routes.push({ destination: podCIDR, via: internalIP });
  }
  return routes.sort((a, b) => a.destination.localeCompare(b.destination));
}

/** The IPv4 addresses of this network namespace's interfaces. */
export function localIpv4Addresses(): Set<string> {
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) if (address.family === 'IPv4') addresses.add(address.address);
  }
  return addresses;
}

/**
 * Keeps this node's routes to the other nodes' pods equal to `desiredNodeRoutes`: replaces what is
 * wanted, deletes routes of ours (by protocol) that are not, in one `ip -batch` per change.
 */
export class NodeRoutes {
  private applying: Promise<void> = Promise.resolve();
  private applied = '';

  constructor(
    private readonly selfName: string,
    private readonly options: { readonly logger?: Logger; /** A command prefix that runs `ip` in another network namespace (tests). */ readonly enter?: readonly string[] } = {},
  ) {}

  /** Brings the routes in line with `nodes`; calls are applied one after another. */
  sync(nodes: readonly Node[]): Promise<void> {
    const next = this.applying.then(() => this.apply(nodes));
    this.applying = next.catch(() => {});
    return next;
  }

  /** Removes every route of ours (the agent's network is going away). */
  async removeAll(): Promise<void> {
    await this.applying;
    await this.write([], await this.current());
    this.applied = '';
  }

  private async apply(nodes: readonly Node[]): Promise<void> {
    const wanted = desiredNodeRoutes(nodes, this.selfName, localIpv4Addresses());
    const key = JSON.stringify(wanted);
    if (key === this.applied) return;
    await this.write(wanted, await this.current());
    this.applied = key;
    this.options.logger?.info({ routes: wanted }, 'node routes: routes to other nodes’ pods updated');
  }

  private async write(wanted: readonly NodeRoute[], current: readonly NodeRoute[]): Promise<void> {
    const keep = new Set(wanted.map((route) => route.destination));
    const lines = [
      ...current.filter((route) => !keep.has(route.destination)).map((route) => `route del ${route.destination} proto ${NODE_ROUTE_PROTOCOL}`),
      ...wanted.map((route) => `route replace ${route.destination} via ${route.via} proto ${NODE_ROUTE_PROTOCOL}`),
    ];
    if (lines.length > 0) await run([...(this.options.enter ?? []), 'ip', '-batch', '-'], lines.join('\n') + '\n');
  }

  private async current(): Promise<NodeRoute[]> {
    const routes = JSON.parse(await run([...(this.options.enter ?? []), 'ip', '-j', '-4', 'route', 'show', 'proto', String(NODE_ROUTE_PROTOCOL)])) as { dst?: string; gateway?: string }[];
    return routes.filter((route) => route.dst !== undefined).map((route) => ({ destination: route.dst!, via: route.gateway ?? '' }));
  }
}
