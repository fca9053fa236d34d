import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { DockerEngine, type InspectedContainer, type ListedContainer } from './docker_engine.js';
import { reportsLeading } from './leader_metric.js';
import { readNodePods } from './node_pods.js';
import { flagValue, role } from './local_target.js';
import type { ScheduleParts } from './schedule.js';
import { StoreLeaderProbe } from './store_client.js';
import { resolveRole, type ChaosTarget, type TargetEndpoints } from './target.js';

/**
 * A docker compose project (docker-compose.yml's cluster) as a chaos target. Its containers are
 * found by compose's labels; a part is named by its service (`store-2`, `scheduler-1`), a node by
 * its container's hostname, which is its Node's name.
 *
 * - kill: SIGKILL through the engine, as `docker kill -s KILL`. The engine counts that as a manual
 *   stop: `restart: unless-stopped` does not start it again (Docker 20.10: still exited 6 s later,
 *   while a SIGKILL sent to the container's process from outside is restarted within a second). So
 *   `restart` starts it, as `docker start`, unless something already did.
 * - pause/resume: `docker pause`/`unpause` (the cgroup freezer).
 * - cut/heal a node: the host end of its container's veth set down, then up: a cable pulled. The
 *   container keeps its address, routes and compose's DNS aliases, nothing inside it changes, and a
 *   heal is one idempotent command even after a crashed run. (`docker network disconnect` instead
 *   removes the interface and its address, and `connect` gives it back by a new allocation; iptables
 *   rules in its namespace would share the filter table with the link faults' chain.)
 * - Link faults: `networkNamespace` = `nsenter --net=/proc/<pid>/ns/net`, `address` = the
 *   container's IP. A restarted container has a new pid: each call checks it still belongs to the
 *   container (its cgroup names the container's id) and asks the engine again when not.
 * - Measuring: the host reaches the compose network's addresses directly, so the store's etcd API,
 *   the API servers' gRPC, the schedulers' and controller managers' /metrics and the NodePorts are
 *   dialled on the containers' IPs; the nodes' pods are read from their runtimes' records through
 *   /proc/<pid>/root.
 */

const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';
const ONEOFF_LABEL = 'com.docker.compose.oneoff';
/** The ports and Lease names of docker-compose.yml's parts, where their command does not say. */
const STORE_CLIENT_PORT = 2379;
const DEFAULT_PORTS: Readonly<Record<string, { readonly flag: string; readonly port: string }>> = {
  apiserver: { flag: '--grpc-port', port: '9090' },
  scheduler: { flag: '--port', port: '10259' },
  'controller-manager': { flag: '--port', port: '10257' },
};
const LEASES: Readonly<Record<string, string>> = { scheduler: 'kube-scheduler', 'controller-manager': 'kube-controller-manager' };
const DEFAULT_KUBELET_ROOT_DIR = '/var/lib/k8ts-kubelet';
const STATUS_TIMEOUT_MS = 1_000;
const STOPPED_TIMEOUT_MS = 10_000;
const PAUSE_ATTEMPTS = 10;
const COMMAND_TIMEOUT_MS = 15_000;

const run = promisify(execFile);

/** One container of the project, as the run knows it: fixed for the run but for pid and address. */
export interface ComposeContainer {
  readonly id: string;
  readonly part: string;
  readonly role: string;
  readonly command: readonly string[];
  pid: number;
  ip: string;
}

export class ComposeTarget implements ChaosTarget {
  readonly description: string;
  readonly endpoints: TargetEndpoints;
  private readonly byPart = new Map<string, ComposeContainer>();
  private readonly byId = new Map<string, ComposeContainer>();
  /** Which store member leads, asked over one status client per member. */
  private readonly storeLeaders = new StoreLeaderProbe(STATUS_TIMEOUT_MS);

  private constructor(
    readonly project: string,
    containers: readonly ComposeContainer[],
    private readonly engine: DockerEngine,
  ) {
    this.description = `compose project ${project}`;
    for (const container of containers) {
      this.byPart.set(container.part, container);
      this.byId.set(container.id, container);
    }
    const ofRole = (wanted: string): ComposeContainer[] => containers.filter((c) => c.role === wanted);
    this.endpoints = {
      stores: new Map(ofRole('store').map((c) => [c.part, `http://${c.ip}:${STORE_CLIENT_PORT}`])),
      apiGrpc: ofRole('apiserver').map((c) => `${c.ip}:${portOf(c)}`),
      nodeAddresses: new Map(ofRole('node').map((c) => [c.part, c.ip])),
    };
  }

  /** Opens the project's containers; throws unless there are some and every one runs (a run starts from a whole cluster). */
  static async open(project: string, engine: DockerEngine = new DockerEngine()): Promise<ComposeTarget> {
    let listed: ListedContainer[];
    try {
      listed = await engine.list([`${PROJECT_LABEL}=${project}`]);
    } catch (error) {
      throw new Error(`no Docker engine answers (${(error as Error).message}): start one (as root: bash deploy/start-dockerd.sh)`);
    }
    const services = listed.filter((c) => c.Labels[ONEOFF_LABEL] !== 'True');
    if (services.length === 0) throw new Error(`no containers of compose project ${JSON.stringify(project)} (start one with pnpm compose:up; --project names another)`);
    const containers = containersOf(await Promise.all(services.map((c) => engine.inspect(c.Id))));
    const down = containers.filter((c) => c.pid === 0).map((c) => c.part);
    if (down.length > 0) throw new Error(`compose project ${project} is not whole: ${down.join(', ')} not running (docker compose -p ${project} ps)`);
    return new ComposeTarget(project, containers, engine);
  }

  /** Of the given project names, the first with containers (the engine asked once for all projects). */
  static async firstProjectWithContainers(candidates: readonly string[], engine: DockerEngine = new DockerEngine()): Promise<string | undefined> {
    const listed = await engine.list([PROJECT_LABEL]);
    const present = new Set(listed.map((c) => c.Labels[PROJECT_LABEL]));
    return candidates.find((name) => present.has(name));
  }

  parts(): ScheduleParts {
    // Sorted: the engine lists containers in no promised order, and a seed must pick the same parts.
    const names = (wanted: string): string[] => [...this.byPart.values()].filter((c) => c.role === wanted).map((c) => c.part).sort();
    const faultable = ['store', 'apiserver', 'scheduler', 'controller-manager', 'node'].flatMap(names);
    return {
      stores: names('store'),
      apiservers: names('apiserver'),
      schedulers: names('scheduler'),
      controllerManagers: names('controller-manager'),
      nodes: names('node'),
      nodeHosts: names('node'),
      linkParts: faultable,
    };
  }

  resolve(target: string): Promise<string> {
    return resolveRole(target, () => this.leaders());
  }

  async kill(part: string): Promise<void> {
    const container = this.container(part);
    await this.engine.kill(container.id, 'SIGKILL');
    const deadline = Date.now() + STOPPED_TIMEOUT_MS;
    while ((await this.engine.inspect(container.id)).State.Running) {
      if (Date.now() > deadline) throw new Error(`${part} (container ${short(container.id)}) still running ${STOPPED_TIMEOUT_MS} ms after SIGKILL`);
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  /** Starts a killed container again; one that runs already (its restart policy, a person) is left as it is. */
  async restart(part: string): Promise<void> {
    const container = this.container(part);
    const seen = await this.engine.inspect(container.id);
    if (!seen.State.Running) await this.engine.start(container.id);
    this.remember(container, await this.engine.inspect(container.id));
    if (container.pid === 0) throw new Error(`${part} (container ${short(container.id)}) did not start again (docker logs ${short(container.id)})`);
  }

  /**
   * runc gives the cgroup freezer a short while to stop every task and otherwise fails ("unable to
   * freeze") and thaws: on a busy machine that happens. Tried again a few times; a failure is whole.
   */
  async pause(part: string): Promise<void> {
    const { id } = this.container(part);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.engine.pause(id);
      } catch (error) {
        if (attempt >= PAUSE_ATTEMPTS || !/unable to freeze/.test((error as Error).message)) throw error;
      }
      await new Promise((done) => setTimeout(done, 200));
    }
  }

  async resume(part: string): Promise<void> {
    await this.engine.unpause(this.container(part).id);
  }

  async cut(node: string): Promise<void> {
    await run('ip', ['link', 'set', await this.hostVeth(node), 'down'], { timeout: COMMAND_TIMEOUT_MS });
  }

  async heal(node: string): Promise<void> {
    await run('ip', ['link', 'set', await this.hostVeth(node), 'up'], { timeout: COMMAND_TIMEOUT_MS });
  }

  networkNamespace(part: string): readonly string[] {
    const container = this.current(part);
    if (container.pid === 0) throw new Error(`${part} (container ${short(container.id)}) is not running: no network namespace to enter`);
    return ['nsenter', `--net=/proc/${container.pid}/ns/net`];
  }

  address(part: string): string {
    return this.current(part).ip;
  }

  async processes(): Promise<readonly { name: string; up: boolean }[]> {
    const states = await this.states();
    return [...this.byPart.values()].map((c) => {
      const state = states.get(c.id);
      return { name: c.part, up: state === 'running' || state === 'paused' };
    });
  }

  async runningPods(): Promise<readonly { node: string; pod: string }[]> {
    const states = await this.states();
    const nodes = [...this.byPart.values()].filter((c) => c.role === 'node' && (states.get(c.id) === 'running' || states.get(c.id) === 'paused'));
    const perNode = await Promise.all(
      nodes.map(async (c) => {
        const seen = await this.engine.inspect(c.id);
        this.remember(c, seen);
        if (seen.State.Pid === 0) return [];
        const pods = await readContainerPods(`/proc/${seen.State.Pid}/root`, flagOr(c.command, '--root-dir', DEFAULT_KUBELET_ROOT_DIR));
        return pods.map((pod) => ({ node: c.part, pod }));
      }),
    );
    return perNode.flat();
  }

  async leaders(): Promise<Record<string, string | undefined>> {
    const states = await this.states();
    const running = (c: ComposeContainer): boolean => states.get(c.id) === 'running';
    const elected = async (wanted: string): Promise<string | undefined> => {
      for (const c of this.byPart.values()) {
        if (c.role !== wanted || !running(c)) continue;
        if (await reportsLeading(`http://${c.ip}:${portOf(c)}`, LEASES[wanted] as string, STATUS_TIMEOUT_MS).catch(() => false)) return c.part;
      }
      return undefined;
    };
    const storeLeader = async (): Promise<string | undefined> => {
      const answers = await Promise.all(
        [...this.byPart.values()].filter((c) => c.role === 'store' && running(c)).map(async (c) => ((await this.leadsStore(c)) ? c.part : undefined)),
      );
      return answers.find((part) => part !== undefined);
    };
    const [store, scheduler, controllerManager] = await Promise.all([storeLeader(), elected('scheduler'), elected('controller-manager')]);
    return { 'store-leader': store, 'scheduler-leader': scheduler, 'controller-manager-leader': controllerManager };
  }

  close(): void {
    this.storeLeaders.close();
  }

  /** The member answers its own id as the leader it follows. */
  private leadsStore(c: ComposeContainer): Promise<boolean> {
    return this.storeLeaders.leads(`http://${c.ip}:${STORE_CLIENT_PORT}`);
  }

  /** Each container's state (running, paused, exited, restarting, …) by id, in one request; addresses refreshed. */
  private async states(): Promise<Map<string, string>> {
    const listed = await this.engine.list([`${PROJECT_LABEL}=${this.project}`]);
    const states = new Map<string, string>();
    for (const seen of listed) {
      states.set(seen.Id, seen.State);
      const ip = firstAddress(seen.NetworkSettings?.Networks);
      const container = this.byId.get(seen.Id);
      if (container !== undefined && ip !== '') container.ip = ip;
    }
    return states;
  }

  /** The host's end of the veth that holds the node container's address. */
  private async hostVeth(node: string): Promise<string> {
    const container = this.container(node);
    if (container.role !== 'node') throw new Error(`${node} is not a node container (nodes: ${this.parts().nodes.join(', ')})`);
    const enter = this.networkNamespace(node);
    const inside = JSON.parse((await run(enter[0] as string, [...enter.slice(1), 'ip', '-j', '-4', 'addr', 'show'], { timeout: COMMAND_TIMEOUT_MS })).stdout) as IpAddrEntry[];
    const device = inside.find((link) => link.addr_info?.some((a) => a.local === container.ip));
    if (device?.link_index === undefined) throw new Error(`${node}: no veth holds ${container.ip} in its namespace (${inside.map((l) => l.ifname).join(', ')})`);
    const host = JSON.parse((await run('ip', ['-j', 'link', 'show'], { timeout: COMMAND_TIMEOUT_MS })).stdout) as IpAddrEntry[];
    const peer = host.find((link) => link.ifindex === device.link_index);
    if (peer === undefined) throw new Error(`${node}: the host has no link with index ${device.link_index} (${device.ifname}'s peer)`);
    return peer.ifname;
  }

  /**
   * The container with its pid and address as they are now, for the synchronous callers: the pid
   * remembered is checked against /proc (its cgroup names the container's id); when it is gone or
   * another's, the engine is asked through its CLI (synchronously; rare: after a restart by others).
   */
  private current(part: string): ComposeContainer {
    const container = this.container(part);
    if (container.pid !== 0 && belongsTo(container.pid, container.id)) return container;
    const [pid, ip] = execFileSync('docker', ['inspect', '-f', '{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', container.id], { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS })
      .trim()
      .split(/\s+/);
    container.pid = Number(pid);
    if (ip !== undefined && ip !== '') container.ip = ip;
    return container;
  }

  private remember(container: ComposeContainer, seen: InspectedContainer): void {
    container.pid = seen.State.Pid;
    const ip = firstAddress(seen.NetworkSettings.Networks);
    if (ip !== '') container.ip = ip;
  }

  private container(part: string): ComposeContainer {
    const container = this.byPart.get(part);
    if (container === undefined) throw new Error(`no part ${JSON.stringify(part)} in ${this.description} (parts: ${[...this.byPart.keys()].join(', ')})`);
    return container;
  }
}

interface IpAddrEntry {
  readonly ifindex: number;
  readonly ifname: string;
  readonly link_index?: number;
  readonly addr_info?: readonly { readonly local?: string }[];
}

/** Parts from the engine's descriptions: a node by its hostname, any other part by its service. */
export function containersOf(inspected: readonly InspectedContainer[]): ComposeContainer[] {
  const containers = inspected.map((seen) => {
    const service = seen.Config.Labels[SERVICE_LABEL];
    if (service === undefined) throw new Error(`container ${short(seen.Id)} has no ${SERVICE_LABEL} label`);
    const partRole = role(service);
    return {
      id: seen.Id,
      part: partRole === 'node' ? seen.Config.Hostname : service,
      role: partRole,
      command: seen.Config.Cmd ?? [],
      pid: seen.State.Running ? seen.State.Pid : 0,
      ip: firstAddress(seen.NetworkSettings.Networks),
    };
  });
  const names = containers.map((c) => c.part);
  const twice = names.filter((name, index) => names.indexOf(name) !== index);
  if (twice.length > 0) throw new Error(`two containers are the part ${twice.join(', ')} (scaled services other than node are not told apart)`);
  return containers;
}

/**
 * The project name compose gives a folder when none is set: its base name, lower-cased, with
 * what compose does not allow in a name taken out (compose v2: `a-z0-9_-`, starting with a letter
 * or digit; v1.29 keeps the same characters).
 */
export function composeProjectName(folder: string): string {
  return basename(folder)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

/**
 * `namespace/name` of each pod with a live container process on a node container, from the
 * runtime's records as node_pods.ts reads them, seen through `root` (/proc/<pid>/root): the records'
 * pids are the container's own, so a process is alive when the container's /proc still has it
 * (and it is not a zombie).
 */
export function readContainerPods(root: string, rootDir: string): Promise<string[]> {
  return readNodePods(join(root, rootDir), (pid) => aliveIn(root, pid));
}

async function aliveIn(root: string, pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const stat = await readFile(join(root, 'proc', String(pid), 'stat'), 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Whether the process runs in the container `id` (its cgroup paths name the container). */
function belongsTo(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id);
  } catch {
    return false;
  }
}

function firstAddress(networks: Readonly<Record<string, { readonly IPAddress?: string }>> | undefined): string {
  return Object.values(networks ?? {}).find((network) => (network.IPAddress ?? '') !== '')?.IPAddress ?? '';
}

function portOf(c: ComposeContainer): string {
  const ports = DEFAULT_PORTS[c.role];
  if (ports === undefined) throw new Error(`${c.part}: no port known for a ${c.role}`);
  return flagOr(c.command, ports.flag, ports.port);
}

/** `--flag value` or `--flag=value` in an argv, else the fallback (the program's default). */
function flagOr(argv: readonly string[], flag: string, fallback: string): string {
  try {
    return flagValue(argv, flag);
  } catch {
    return fallback;
  }
}

const short = (id: string): string => id.slice(0, 12);
