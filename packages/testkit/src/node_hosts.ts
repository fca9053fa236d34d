import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runCommand } from './run.js';

/**
 * Node hosts as kind's docker network gives them: one Linux bridge in this network namespace (the
 * gateway, `.1` of the subnet) and, per host, a network namespace of its own joined to the bridge
 * by a veth pair. Processes started with `host.enter` run inside and reach the rest only through the
 * bridge, so `cut(host)` (its bridge port down) is a real partition: nothing passes either way.
 *
 * Needs root and iproute2. Names:
 * - the bridge is the network's `name` (letters and digits only, ≤ 15 characters, this run's own);
 * - a host's namespace is `<name>-<hostName>` (`ip netns exec <name>-<hostName> …` works for users);
 * - a host's bridge end is `nh` + 12 hex digits of a hash of the namespace name, so the leftovers of a
 *   crashed run are found from the namespaces' names alone (and from the bridge's ports).
 */

export interface NodeHost {
  /** The host's name as given to `addHost`. */
  readonly name: string;
  /** Its network namespace's name (`ip netns exec <netns> …`). */
  readonly netns: string;
  /** Its address on the network (`eth0` inside). */
  readonly ip: string;
  /** The namespace's bind mount, for `nsenter --net=<netnsPath>`. */
  readonly netnsPath: string;
  /**
   * The argv prefix that runs a command inside: `ip netns exec <netns>`, which also gives the command
   * a mount namespace with /sys remounted for this network namespace (/sys/class/net shows the host's
   * interfaces), and execs it in place: the pid spawned is the command's.
   */
  readonly enter: readonly string[];
  /**
   * `enter`, then this machine's cgroup hierarchies mounted again at /sys/fs/cgroup (the remount of
   * /sys hides them), then the command exec'd in place: for a node agent, whose containers get
   * cgroups (limits, usage, OOM kills) as on the machine itself.
   */
  readonly enterWithCgroups: readonly string[];
}

export interface NodeHostNetworkOptions {
  /** The bridge's name, the prefix of every namespace: [A-Za-z0-9]{1,15}, unique per run. */
  readonly name: string;
  /** An IPv4 subnet (e.g. `172.31.7.0/24`, prefix 8-30) no route of this namespace overlaps. */
  readonly subnet: string;
}

const NETWORK_NAME = /^[A-Za-z0-9]{1,15}$/;
const HOST_NAME = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;
const NETNS_DIR = '/run/netns';

export class NodeHostNetwork {
  private readonly hostsByName = new Map<string, NodeHost>();
  private destroyed = false;

  private constructor(
    /** The bridge's name. */
    readonly name: string,
    /** The subnet's network address and prefix, normalised (`172.31.7.0/24`). */
    readonly subnet: string,
    /** The bridge's address: the first of the subnet, every host's default route. */
    readonly gateway: string,
    private readonly network: number,
    private readonly prefixLength: number,
  ) {}

  /**
   * Makes the bridge with the gateway address, after removing what an earlier run under the same
   * name left. Throws on a bad name or subnet, or when a route of this namespace overlaps the subnet.
   */
  static async create(options: NodeHostNetworkOptions): Promise<NodeHostNetwork> {
    if (!NETWORK_NAME.test(options.name)) throw new Error(`node host network name ${JSON.stringify(options.name)}: letters and digits only, 1 to 15 of them`);
    const { network, prefixLength } = parseSubnet(options.subnet);
    await NodeHostNetwork.destroy(options.name);
    const subnet = `${formatIPv4(network)}/${prefixLength}`;
    const overlapping = await overlappingRoute(network, prefixLength);
    if (overlapping !== undefined) throw new Error(`node host network ${options.name}: subnet ${subnet} overlaps the route ${overlapping}`);
    const gateway = formatIPv4(network + 1);
    await shell([
      `ip link add ${options.name} type bridge`,
      `ip addr add ${gateway}/${prefixLength} dev ${options.name}`,
      `ip link set ${options.name} up`,
      // Bridged traffic passes iptables' FORWARD chain (br_netfilter), whose policy may be DROP (dockerd sets it).
      `if command -v iptables >/dev/null; then iptables -w -I FORWARD ${forwardRule(options.name)}; fi`,
    ]);
    return new NodeHostNetwork(options.name, subnet, gateway, network, prefixLength);
  }

  /**
   * Removes every trace of the network `name`, made by this process or by a run that crashed: the
   * namespaces `<name>-*` and their veth pairs, the bridge's ports, the bridge, its FORWARD rule.
   * Nothing there is fine.
   * A process still running inside a namespace keeps it alive but cut off (its veth is gone).
   */
  static async destroy(name: string): Promise<void> {
    if (!NETWORK_NAME.test(name)) throw new Error(`node host network name ${JSON.stringify(name)}: letters and digits only, 1 to 15 of them`);
    const namespaces = (await ipJson<{ name: string }>(['netns', 'list'])).map((entry) => entry.name).filter((netns) => netns.startsWith(`${name}-`));
    const links = new Set((await ipJson<{ ifname: string }>(['link', 'show'])).map((link) => link.ifname));
    const ports = links.has(name) ? (await ipJson<{ ifname: string }>(['link', 'show', 'master', name])).map((link) => link.ifname) : [];
    const lines = [
      ...new Set([...namespaces.map(vethName).filter((veth) => links.has(veth)), ...ports]),
    ].map((veth) => `ip link del ${veth}`);
    lines.push(...namespaces.map((netns) => `ip netns del ${netns}`));
    if (links.has(name)) lines.push(`ip link del ${name}`);
    lines.push(`if command -v iptables >/dev/null; then while iptables -w -D FORWARD ${forwardRule(name)} 2>/dev/null; do :; done; fi`);
    await shell(lines);
  }

  /** The hosts added and not removed, in the order added. */
  get hosts(): readonly NodeHost[] {
    return [...this.hostsByName.values()];
  }

  /**
   * Makes the host `hostName`: its namespace, a veth pair (this end on the bridge, `eth0` inside with
   * the lowest free address of the subnet), lo up, a default route via the gateway, and IPv4
   * forwarding on inside (its pods' traffic is routed through it).
   */
  async addHost(hostName: string): Promise<NodeHost> {
    if (this.destroyed) throw new Error(`node host network ${this.name} is destroyed`);
    if (!HOST_NAME.test(hostName)) throw new Error(`node host name ${JSON.stringify(hostName)}: a DNS label of at most 40 characters`);
    if (this.hostsByName.has(hostName)) throw new Error(`node host ${hostName} exists already on ${this.name}`);
    const netns = `${this.name}-${hostName}`;
    const enter = ['ip', 'netns', 'exec', netns];
    const enterWithCgroups = [...enter, 'sh', '-e', '-c', `${cgroupMountScript()}\nexec "$@"`, 'sh'];
    const host: NodeHost = { name: hostName, netns, ip: this.freeAddress(), netnsPath: `${NETNS_DIR}/${netns}`, enter, enterWithCgroups };
    this.hostsByName.set(hostName, host); // claims the address before the first await
    const veth = vethName(netns);
    try {
      await shell([
        `ip netns add ${netns}`,
        `ip link add ${veth} type veth peer name eth0 netns ${netns}`,
        `ip link set ${veth} master ${this.name} up`,
        `ip -n ${netns} addr add ${host.ip}/${this.prefixLength} dev eth0`,
        `ip -n ${netns} link set lo up`,
        `ip -n ${netns} link set eth0 up`,
        `ip -n ${netns} route add default via ${this.gateway}`,
        `ip netns exec ${netns} sysctl -qw net.ipv4.ip_forward=1`,
      ]);
    } catch (error) {
      await this.removeHost(host).catch(() => {}); // what the failed script made; the first error is the answer
      throw error;
    }
    return host;
  }

  /** Takes the host off the network: its bridge port goes down, so nothing passes either way. */
  async cut(host: NodeHost): Promise<void> {
    await NodeHostNetwork.cutNamespace(this.own(host).netns);
  }

  /** Puts a cut host back on the network. */
  async heal(host: NodeHost): Promise<void> {
    await NodeHostNetwork.healNamespace(this.own(host).netns);
  }

  /**
   * `cut` and `heal` for a process that did not make the network (a chaos run against `k8ts up`'s
   * cluster): the host is named by its namespace, as the cluster's state file records it.
   */
  static async cutNamespace(netns: string): Promise<void> {
    await shell([`ip link set ${vethName(netns)} down`]);
  }

  static async healNamespace(netns: string): Promise<void> {
    await shell([`ip link set ${vethName(netns)} up`]);
  }

  /** Deletes the host's veth pair and namespace (a process still inside keeps the namespace, cut off). */
  async removeHost(host: NodeHost): Promise<void> {
    const { netns } = this.own(host);
    this.hostsByName.delete(host.name);
    const links = new Set((await ipJson<{ ifname: string }>(['link', 'show'])).map((link) => link.ifname));
    const namespaces = new Set((await ipJson<{ name: string }>(['netns', 'list'])).map((entry) => entry.name));
    const lines = [
      ...(links.has(vethName(netns)) ? [`ip link del ${vethName(netns)}`] : []),
      ...(namespaces.has(netns) ? [`ip netns del ${netns}`] : []),
    ];
    if (lines.length > 0) await shell(lines);
  }

  /** Removes the hosts and the bridge (idempotent; also what a crashed run under this name left). */
  async destroy(): Promise<void> {
    this.destroyed = true;
    this.hostsByName.clear();
    await NodeHostNetwork.destroy(this.name);
  }

  private own(host: NodeHost): NodeHost {
    const known = this.hostsByName.get(host.name);
    if (known === undefined || known.netns !== host.netns) throw new Error(`node host ${host.name} is not on ${this.name}`);
    return known;
  }

  /** The lowest address after the gateway that no host holds, below the broadcast address. */
  private freeAddress(): string {
    const taken = new Set(this.hosts.map((host) => host.ip));
    const last = this.network + 2 ** (32 - this.prefixLength) - 2;
    for (let address = this.network + 2; address <= last; address++) {
      const ip = formatIPv4(address);
      if (!taken.has(ip)) return ip;
    }
    throw new Error(`node host network ${this.name}: no free address left in ${this.subnet}`);
  }
}

/** iptables' FORWARD rule that lets the hosts' traffic through the bridge, whatever the chain's policy. */
function forwardRule(bridge: string): string {
  return `-i ${bridge} -o ${bridge} -j ACCEPT`;
}

/** The bridge end of a host's veth pair: ≤ 15 characters, derived from the namespace's name alone. */
function vethName(netns: string): string {
  return `nh${createHash('sha256').update(netns).digest('hex').slice(0, 12)}`;
}

/**
 * Mounts, in a mount namespace where /sys was remounted, what this one has at and under
 * /sys/fs/cgroup (cgroup v1 hierarchies on a tmpfs, or cgroup2): mounting a hierarchy with the same
 * options again attaches the same hierarchy, not a new one.
 */
function cgroupMountScript(): string {
  const lines: string[] = [];
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [source, target, type, options] = line.split(' ');
    if (source === undefined || target === undefined || type === undefined || options === undefined) continue;
    if (!(target === '/sys/fs/cgroup' || target.startsWith('/sys/fs/cgroup/')) || /[^A-Za-z0-9_./-]/.test(target + source)) continue;
    if (target !== '/sys/fs/cgroup') lines.push(`mkdir -p ${target}`);
    // A hierarchy that will not mount leaves the command without it (as a runtime without cgroups), said on stderr.
    lines.push(`mount -t ${quote(type)} -o ${quote(options)} ${source} ${target} || echo "node host: ${target} not mounted" >&2`);
  }
  return lines.join('\n');
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** Runs the lines as one `sh -e` script (one spawn); throws with its stderr when one fails. */
async function shell(lines: readonly string[]): Promise<void> {
  const result = await runCommand('sh', ['-e', '-c', lines.join('\n')]);
  if (result.code !== 0) throw new Error(`node host network: command failed (${result.code}): ${result.stderr.trim()}\nscript:\n${lines.join('\n')}`);
}

/** `ip -j <args>` parsed (`ip netns list` prints nothing at all when there is none). */
async function ipJson<T>(args: readonly string[]): Promise<T[]> {
  const result = await runCommand('ip', ['-j', ...args]);
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout.trim() === '' ? [] : (JSON.parse(result.stdout) as T[]);
}

async function overlappingRoute(network: number, prefixLength: number): Promise<string | undefined> {
  for (const route of await ipJson<{ dst: string }>(['-4', 'route', 'show', 'table', 'all'])) {
    if (route.dst === 'default' || !/^[0-9.]+(\/\d+)?$/.test(route.dst)) continue;
    const [address, bits] = route.dst.split('/') as [string, string | undefined];
    const other = { network: parseIPv4(address), prefixLength: bits === undefined ? 32 : Number(bits) };
    if (other.prefixLength === 32 || other.prefixLength === 0) continue; // host routes (local table) and catch-alls
    const shorter = Math.min(prefixLength, other.prefixLength);
    if (maskOf(network, shorter) === maskOf(other.network, shorter)) return route.dst;
  }
  return undefined;
}

function parseSubnet(subnet: string): { network: number; prefixLength: number } {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(subnet);
  const prefixLength = Number(match?.[2]);
  if (match === null || prefixLength < 8 || prefixLength > 30) throw new Error(`node host subnet ${JSON.stringify(subnet)}: an IPv4 CIDR with a prefix of 8 to 30`);
  return { network: maskOf(parseIPv4(match[1]!), prefixLength), prefixLength };
}

function parseIPv4(text: string): number {
  const octets = text.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) throw new Error(`invalid IPv4 address ${JSON.stringify(text)}`);
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function maskOf(address: number, prefixLength: number): number {
  const size = 2 ** (32 - prefixLength);
  return Math.floor(address / size) * size;
}
