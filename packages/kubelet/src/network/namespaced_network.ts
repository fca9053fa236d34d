import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { RuntimeError, type PodSandboxConfig } from '../runtime/runtime.js';
import { enableIpForwarding, ensureBridge, ensureMasquerade, interfaceMtu } from './bridge.js';
import { run, runScript, shellQuote } from './command.js';
import { hostNetwork } from './host_network.js';
import { HostPorts } from './host_ports.js';
import { HostLocalIpam } from './ipam.js';
import { formatIpv4, parseIpv4Cidr, type Ipv4Cidr } from './ipv4.js';
import { NamespaceFiles } from './namespaces.js';
import { nodeNetworkRecordPath, type NodeNetworkRecord } from './remove_pod_network.js';
import type { PodNetwork, PodNetworkAttachment } from './pod_network.js';

export interface NamespacedNetworkOptions {
  /** The agent's root dir: the network keeps its state under `<rootDir>/network`. */
  readonly rootDir: string;
  /**
   * The node's `spec.podCIDR` (IPv4). A function when the agent learns it after registering (the
   * controller manager assigns it): until it answers, setUp fails with "network is not ready".
   */
  readonly podCIDR: string | (() => string | undefined);
  /** The node's address: what `hostNetwork: true` pods get. */
  readonly nodeIP: string;
  /** The bridge's name; agents sharing one network namespace need different ones. Default `k8ts0`. */
  readonly bridgeName?: string;
  /**
   * Traffic from pods to addresses outside this range is masqueraded (where iptables exists); it must
   * hold every node's podCIDR. Default 10.0.0.0/8, as the kubelet's `--non-masquerade-cidr` was.
   */
  readonly nonMasqueradeCIDR?: string;
  /** MTU of the bridge and veths. Default: the MTU of the interface holding nodeIP, else 1500. */
  readonly mtu?: number;
  readonly logger?: Logger;
}

/** What is kept on disk for a sandbox, so a restarted agent answers setUp with the same attachment. */
interface SandboxRecord {
  readonly sandboxId: string;
  readonly podCIDR: string;
  readonly ip: string;
  readonly hostVeth: string;
  readonly hostname: string;
}

const SANDBOX_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * The pod hostname as the kubelet sets it: `hostname` (or the pod's name), cut to 63 characters
 * without a trailing '-' or '.', as upstream truncates long pod names.
 */
export function podHostname(config: Pick<PodSandboxConfig, 'hostname' | 'name'>): string {
  const name = config.hostname !== '' ? config.hostname : config.name;
  return name.length <= 63 ? name : name.slice(0, 63).replace(/[-.]+$/, '');
}

/**
 * Each pod in a network namespace of its own, joined to the node's bridge by a veth pair (the pod's
 * end is eth0), with an address from the node's podCIDR and a default route via the bridge, and a
 * UTS namespace holding its hostname: what the CNI bridge plugin with host-local IPAM gives a pod.
 *
 * State under `<rootDir>/network`: `ipam/` (one file per address, see HostLocalIpam), `sandboxes/`
 * (one record per sandbox, written before anything is built so a crash mid-setUp is found again),
 * `ns/` (the namespaces' bind mounts). `hostNetwork: true` sandboxes get the node's network and leave
 * nothing behind. A pod's `hostPort`s forward from the node to its IP (HostPorts) while the sandbox lives.
 */
export function namespacedNetwork(options: NamespacedNetworkOptions): PodNetwork {
  return new NamespacedNetwork(options);
}

class NamespacedNetwork implements PodNetwork {
  readonly mode = 'namespaced' as const;
  private readonly dir: string;
  private readonly bridgeName: string;
  private readonly ipam: HostLocalIpam;
  private readonly namespaces: NamespaceFiles;
  private readonly host: PodNetwork;
  private readonly hostPorts: HostPorts;
  /** One operation at a time per sandbox: setUp and tearDown of one id never interleave. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private bridge: { podCIDR: string; mtu: number; ready: Promise<void> } | undefined;

  constructor(private readonly options: NamespacedNetworkOptions) {
    this.bridgeName = options.bridgeName ?? 'k8ts0';
    if (!INTERFACE_NAME.test(this.bridgeName)) {
      throw new Error(`invalid bridge name ${JSON.stringify(this.bridgeName)}: at most 15 of [A-Za-z0-9_.-]`);
    }
    this.dir = join(resolve(options.rootDir), 'network');
    this.ipam = new HostLocalIpam(join(this.dir, 'ipam'));
    this.namespaces = new NamespaceFiles(join(this.dir, 'ns'));
    this.host = hostNetwork(options.nodeIP);
    this.hostPorts = new HostPorts(options.logger);
  }

  setUp(sandboxId: string, config: PodSandboxConfig): Promise<PodNetworkAttachment> {
    if (config.hostNetwork) return this.host.setUp(sandboxId, config);
    return this.locked(sandboxId, async () => {
      try {
        return await this.setUpLocked(sandboxId, config);
      } catch (error) {
        // The runtime prefixes `failed to setup network for sandbox "<id>": `, as containerd does.
        throw error instanceof RuntimeError ? error : new RuntimeError('Internal', error instanceof Error ? error.message : String(error));
      }
    });
  }

  tearDown(sandboxId: string): Promise<void> {
    if (!SANDBOX_ID.test(sandboxId)) return Promise.resolve();
    return this.locked(sandboxId, () => this.tearDownLocked(sandboxId));
  }

  intact(sandboxId: string, config: PodSandboxConfig): Promise<boolean> {
    if (config.hostNetwork) return this.host.intact(sandboxId, config);
    if (!SANDBOX_ID.test(sandboxId)) return Promise.resolve(false);
    return this.locked(sandboxId, async () => {
      const saved = await this.readRecord(sandboxId);
      return saved !== undefined && (await this.built(saved));
    });
  }

  async reconcile(liveSandboxIds: Iterable<string>): Promise<string[]> {
    const live = new Set(liveSandboxIds);
    const known = new Set<string>([
      ...(await this.recordIds()),
      ...(await this.namespaces.ids()),
      ...(await this.ipam.allocations()).values(),
    ]);
    const freed = [...known].filter((id) => !live.has(id)).sort();
    for (const id of freed) {
      if (SANDBOX_ID.test(id)) {
        await this.tearDown(id);
      } else {
        // An address claim interrupted before its owner was written.
        await this.ipam.release(id);
      }
    }
    if (freed.length > 0) this.options.logger?.info({ sandboxIds: freed }, 'pod network: freed sandboxes that no longer exist');
    return freed;
  }

  private async setUpLocked(sandboxId: string, config: PodSandboxConfig): Promise<PodNetworkAttachment> {
    if (!SANDBOX_ID.test(sandboxId)) throw new Error(`invalid sandbox id ${JSON.stringify(sandboxId)}`);
    const podCIDR = typeof this.options.podCIDR === 'function' ? this.options.podCIDR() : this.options.podCIDR;
    if (podCIDR === undefined || podCIDR === '') throw new Error('network is not ready: the node has no podCIDR yet');
    const cidr = parseIpv4Cidr(podCIDR);

    const saved = await this.readRecord(sandboxId);
    if (saved !== undefined && saved.podCIDR === podCIDR && (await this.built(saved))) {
      await this.hostPorts.openFor(sandboxId, saved.ip, config.portMappings);
      return this.attachment(saved);
    }

    const mtu = await this.ensureBridge(podCIDR, cidr);
    const ip = await this.ipam.allocate(sandboxId, cidr);
    const record: SandboxRecord = {
      sandboxId,
      podCIDR,
      ip,
      hostVeth: hostVethName(this.dir, sandboxId),
      hostname: podHostname(config),
    };
    try {
      await this.writeRecord(record);
      // What a crash mid-setUp, or a lost mount, left behind.
      if (saved !== undefined) await this.removeLinksAndNamespaces(record);
      await this.build(record, cidr, mtu);
      await this.hostPorts.openFor(sandboxId, ip, config.portMappings);
    } catch (error) {
      this.bridge = undefined; // the next setUp checks the bridge again (someone may have removed it)
      await this.tearDownLocked(sandboxId).catch((cleanup: unknown) =>
        this.options.logger?.error({ err: cleanup, sandboxId }, 'pod network: cleanup after a failed setUp failed'),
      );
      throw error;
    }
    this.options.logger?.debug({ sandboxId, ip, hostVeth: record.hostVeth }, 'pod network: sandbox attached');
    return this.attachment(record);
  }

  /**
   * Namespaces, the veth pair (eth0 inside, on the bridge outside), addresses and the default route,
   * in one script: a spawn per step made the network most of what a busy node spent on a pod.
   */
  private async build(record: SandboxRecord, cidr: Ipv4Cidr, mtu: number): Promise<void> {
    const id = record.sandboxId;
    await this.namespaces.prepare(id);
    const gateway = formatIpv4(cidr.gateway);
    await runScript(`set up the network of sandbox ${id}`, [
      ...this.namespaces.createLines(id, record.hostname, [
        // Created from inside the pod's namespace, the peer named by the agent's pid lands in the
        // agent's own namespace (wherever the agent runs), and eth0 never clashes with the node's.
        `link add eth0 mtu ${mtu} type veth peer name ${record.hostVeth} netns ${process.pid}`,
        'link set lo up',
        `addr add ${record.ip}/${cidr.prefixLength} dev eth0`,
        'link set eth0 up',
        `route add default via ${gateway} dev eth0`,
      ]),
      `ip link set ${record.hostVeth} mtu ${mtu} master ${shellQuote(this.bridgeName)} up`,
    ]);
  }

  /** Whether everything the record describes is still there (a reboot or lost mounts drop it). */
  private async built(record: SandboxRecord): Promise<boolean> {
    if (!(await this.namespaces.exist(record.sandboxId))) return false;
    try {
      await run(['ip', 'link', 'show', 'dev', record.hostVeth]);
      return true;
    } catch {
      return false;
    }
  }

  private async tearDownLocked(sandboxId: string): Promise<void> {
    await this.hostPorts.closeFor(sandboxId);
    const record = await this.readRecord(sandboxId);
    await this.removeLinksAndNamespaces(record ?? { sandboxId, hostVeth: hostVethName(this.dir, sandboxId) });
    // The address goes last: it is free only once no namespace can hold it.
    await this.ipam.release(sandboxId);
    await rm(this.recordPath(sandboxId), { force: true });
  }

  /**
   * Deletes the veth pair by its host end (eth0 in the pod goes with it) and unmounts the pod's
   * namespaces, in one script; then deletes the namespace files. What is not there is skipped.
   */
  private async removeLinksAndNamespaces(record: Pick<SandboxRecord, 'sandboxId' | 'hostVeth'>): Promise<void> {
    await runScript(`tear down the network of sandbox ${record.sandboxId}`, [
      `if ! out=$(ip link del ${record.hostVeth} 2>&1); then case "$out" in *'Cannot find device'*|*'does not exist'*) ;; *) echo "$out" >&2; exit 1 ;; esac; fi`,
      ...(await this.namespaces.unmountLines(record.sandboxId)),
    ]);
    await this.namespaces.deleteFiles(record.sandboxId);
  }

  private ensureBridge(podCIDR: string, cidr: Ipv4Cidr): Promise<number> {
    if (this.bridge?.podCIDR !== podCIDR) {
      const bridge = { podCIDR, mtu: 1500, ready: Promise.resolve() };
      bridge.ready = (async () => {
        bridge.mtu = this.options.mtu ?? (await interfaceMtu(this.options.nodeIP)) ?? 1500;
        const nonMasqueradeCIDR = this.options.nonMasqueradeCIDR ?? '10.0.0.0/8';
        // Written first: removePodNetwork finds the bridge and the rule by it, even after a crash here.
        const node: NodeNetworkRecord = { bridgeName: this.bridgeName, podCIDR, nonMasqueradeCIDR };
        await mkdir(this.dir, { recursive: true });
        await writeFile(nodeNetworkRecordPath(this.options.rootDir), JSON.stringify(node));
        await ensureBridge(this.bridgeName, `${formatIpv4(cidr.gateway)}/${cidr.prefixLength}`, bridge.mtu);
        await enableIpForwarding(this.options.logger);
        await ensureMasquerade(podCIDR, nonMasqueradeCIDR, this.options.logger);
        this.options.logger?.info({ bridge: this.bridgeName, podCIDR, mtu: bridge.mtu }, 'pod network: bridge ready');
      })();
      // A failure is retried by the next setUp.
      bridge.ready.catch(() => {
        if (this.bridge === bridge) this.bridge = undefined;
      });
      this.bridge = bridge;
    }
    const bridge = this.bridge;
    return bridge.ready.then(() => bridge.mtu);
  }

  private attachment(record: SandboxRecord): PodNetworkAttachment {
    const id = record.sandboxId;
    return {
      ips: [record.ip],
      enter: ['nsenter', `--net=${this.namespaces.netPath(id)}`, `--uts=${this.namespaces.utsPath(id)}`, '--'],
    };
  }

  private recordPath(sandboxId: string): string {
    return join(this.dir, 'sandboxes', `${sandboxId}.json`);
  }

  private async readRecord(sandboxId: string): Promise<SandboxRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.recordPath(sandboxId), 'utf8')) as SandboxRecord;
    } catch {
      return undefined; // none, or torn by a crash: setUp builds again, tearDown goes by the id
    }
  }

  private async writeRecord(record: SandboxRecord): Promise<void> {
    await mkdir(join(this.dir, 'sandboxes'), { recursive: true });
    const path = this.recordPath(record.sandboxId);
    await writeFile(`${path}.tmp`, JSON.stringify(record));
    await rename(`${path}.tmp`, path);
  }

  private async recordIds(): Promise<string[]> {
    const names = await readdir(join(this.dir, 'sandboxes')).catch(() => [] as string[]);
    return names.filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length));
  }

  private locked<T>(key: string, action: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(action, action);
    const settled = next.catch(() => {});
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return next;
  }
}

/** A name for the host end unique to this agent and sandbox, within Linux's 15 characters. */
function hostVethName(networkDir: string, sandboxId: string): string {
  return `veth${createHash('sha256').update(`${networkDir}\0${sandboxId}`).digest('hex').slice(0, 11)}`;
}
