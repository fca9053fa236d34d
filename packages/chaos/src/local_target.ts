import { existsSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLUSTER_PART_ENV, NodeHostNetwork, launchProcess, pidAlive } from '@k8ts/testkit';
import { reportsLeading } from './leader_metric.js';
import { readNodePods } from './node_pods.js';
import type { ScheduleParts } from './schedule.js';
import { StoreLeaderProbe } from './store_client.js';
import { resolveRole, type ChaosTarget, type TargetEndpoints } from './target.js';

/**
 * The cluster `k8ts up` started in DIR, as a chaos target: its processes from `DIR/cluster.json`.
 * A killed part is started again with the command line it was started with (the state file's
 * `command`, or else its /proc/<pid>/cmdline read when the run opens, behind its node host's
 * `enter` prefix when it runs in one), its output appended to the same log, and its new pid written
 * back to the state file so that `k8ts down` and `k8ts status` find it.
 */

/** The fields of `k8ts up`'s state file this reads (the CLI owns the file and its writer). */
interface StateProcess {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  readonly command?: readonly string[];
  readonly healthUrl?: string;
  readonly lease?: string;
  readonly rootDir?: string;
  readonly clientUrl?: string;
}

interface StateHost {
  readonly name: string;
  readonly netns: string;
  readonly ip: string;
  readonly enterWithCgroups: readonly string[];
}

interface StateFile {
  readonly processes: StateProcess[];
  readonly nodeHosts?: Record<string, StateHost>;
  /** The store members' hosts (as root, beside the node hosts): where the store's link faults go. */
  readonly storeHosts?: Record<string, StateHost>;
  readonly apiservers: readonly string[];
}

interface Part {
  readonly name: string;
  pid: number;
  readonly log: string;
  readonly command: readonly string[];
  readonly healthUrl?: string;
  readonly lease?: string;
  readonly rootDir?: string;
}

const STATUS_TIMEOUT_MS = 1_000;
const GONE_TIMEOUT_MS = 5_000;

export class LocalTarget implements ChaosTarget {
  readonly description: string;
  readonly endpoints: TargetEndpoints;
  private readonly byName = new Map<string, Part>();
  /** Which store member leads, asked over one status client per member. */
  private readonly storeLeaders = new StoreLeaderProbe(STATUS_TIMEOUT_MS);

  private constructor(
    private readonly dir: string,
    private readonly state: StateFile,
  ) {
    this.description = `local cluster in ${dir}`;
    for (const p of state.processes) {
      this.byName.set(p.name, { name: p.name, pid: p.pid, log: p.log, command: p.command ?? procCommand(p, state), ...optional(p) });
    }
    const stores = new Map<string, string>();
    for (const p of state.processes.filter((p) => role(p.name) === 'store')) stores.set(p.name, p.clientUrl ?? flagValue(this.part(p.name).command, '--listen-client-urls'));
    const apiGrpc = state.processes
      .filter((p) => role(p.name) === 'apiserver')
      .map((p) => {
        const command = this.part(p.name).command;
        return `${flagValue(command, '--bind-address')}:${flagValue(command, '--grpc-port')}`;
      });
    const nodeAddresses = new Map<string, string>();
    for (const p of state.processes.filter((p) => role(p.name) === 'node')) nodeAddresses.set(p.name, state.nodeHosts?.[p.name]?.ip ?? flagValue(this.part(p.name).command, '--node-ip'));
    this.endpoints = { stores, apiGrpc, nodeAddresses };
  }

  /** Opens the cluster in `dir`; throws unless every process of it runs (a run starts from a whole cluster). */
  static open(dir: string): LocalTarget {
    const folder = resolve(dir);
    const file = join(folder, 'cluster.json');
    if (!existsSync(file)) throw new Error(`no cluster state in ${folder} (start one with k8ts up --dir ${dir})`);
    const state = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
    const down = state.processes.filter((p) => !pidAlive(p.pid)).map((p) => p.name);
    if (down.length > 0) throw new Error(`the cluster in ${folder} is not whole: ${down.join(', ')} not running (k8ts status --dir ${dir})`);
    return new LocalTarget(folder, state);
  }

  parts(): ScheduleParts {
    const names = (wanted: string): string[] => [...this.byName.keys()].filter((name) => role(name) === wanted);
    return {
      stores: names('store'),
      apiservers: names('apiserver'),
      schedulers: names('scheduler'),
      controllerManagers: names('controller-manager'),
      nodes: names('node'),
      nodeHosts: Object.keys(this.state.nodeHosts ?? {}),
      linkParts: [...this.byName.keys()].filter((name) => this.ownHost(name) !== undefined),
    };
  }

  resolve(target: string): Promise<string> {
    return resolveRole(target, () => this.leaders());
  }

  async kill(name: string): Promise<void> {
    const part = this.part(name);
    signal(part.pid, 'SIGKILL');
    const deadline = Date.now() + GONE_TIMEOUT_MS;
    while (pidAlive(part.pid)) {
      if (Date.now() > deadline) throw new Error(`${name} (pid ${part.pid}) still alive ${GONE_TIMEOUT_MS} ms after SIGKILL`);
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  async restart(name: string): Promise<void> {
    const part = this.part(name);
    if (pidAlive(part.pid)) throw new Error(`${name} (pid ${part.pid}) is running: not restarted`);
    const [file, ...args] = part.command as [string, ...string[]];
    const child = launchProcess(file, args, { output: { file: part.log }, detached: true, env: CLUSTER_PART_ENV });
    child.unref();
    if (child.pid === undefined) throw new Error(`${name} did not start again (${part.command.join(' ')}); see ${part.log}`);
    part.pid = child.pid;
    this.recordPid(name, child.pid);
  }

  async pause(name: string): Promise<void> {
    signal(this.part(name).pid, 'SIGSTOP');
  }

  async resume(name: string): Promise<void> {
    signal(this.part(name).pid, 'SIGCONT');
  }

  async cut(nodeHost: string): Promise<void> {
    await NodeHostNetwork.cutNamespace(this.host(nodeHost).netns);
  }

  async heal(nodeHost: string): Promise<void> {
    await NodeHostNetwork.healNamespace(this.host(nodeHost).netns);
  }

  networkNamespace(name: string): readonly string[] | undefined {
    const host = this.ownHost(name);
    return host === undefined ? undefined : ['ip', 'netns', 'exec', host.netns];
  }

  address(name: string): string | undefined {
    return this.ownHost(name)?.ip;
  }

  async processes(): Promise<readonly { name: string; up: boolean }[]> {
    return [...this.byName.values()].map((part) => ({ name: part.name, up: pidAlive(part.pid) }));
  }

  async runningPods(): Promise<readonly { node: string; pod: string }[]> {
    const pods: { node: string; pod: string }[] = [];
    for (const part of this.byName.values()) {
      if (role(part.name) !== 'node' || part.rootDir === undefined) continue;
      for (const pod of await readNodePods(part.rootDir)) pods.push({ node: part.name, pod });
    }
    return pods;
  }

  async leaders(): Promise<Record<string, string | undefined>> {
    const elected = async (wanted: string): Promise<string | undefined> => {
      for (const part of this.byName.values()) {
        if (role(part.name) !== wanted || part.healthUrl === undefined || part.lease === undefined || !pidAlive(part.pid)) continue;
        if (await reportsLeading(part.healthUrl, part.lease, STATUS_TIMEOUT_MS).catch(() => false)) return part.name;
      }
      return undefined;
    };
    const [store, scheduler, controllerManager] = await Promise.all([this.storeLeader(), elected('scheduler'), elected('controller-manager')]);
    return { 'store-leader': store, 'scheduler-leader': scheduler, 'controller-manager-leader': controllerManager };
  }

  /** The member that answers its own id as the leader it follows. */
  private async storeLeader(): Promise<string | undefined> {
    const answers = await Promise.all(
      [...this.endpoints.stores].map(async ([name, url]) => {
        if (!pidAlive(this.part(name).pid)) return undefined;
        return (await this.storeLeaders.leads(url)) ? name : undefined;
      }),
    );
    return answers.find((name) => name !== undefined);
  }

  close(): void {
    this.storeLeaders.close();
  }

  private part(name: string): Part {
    const part = this.byName.get(name);
    if (part === undefined) throw new Error(`no part ${JSON.stringify(name)} in ${this.description} (parts: ${[...this.byName.keys()].join(', ')})`);
    return part;
  }

  /** The host a node agent or a store member runs in, when it has one of its own. */
  private ownHost(name: string): StateHost | undefined {
    return this.state.nodeHosts?.[name] ?? this.state.storeHosts?.[name];
  }

  private host(name: string): StateHost {
    const host = this.state.nodeHosts?.[name];
    if (host === undefined) throw new Error(`no node host ${JSON.stringify(name)} in ${this.description}`);
    return host;
  }

  /** Writes the new pid into the state file, keeping every other field as the CLI wrote it. */
  private recordPid(name: string, pid: number): void {
    const file = join(this.dir, 'cluster.json');
    const state = JSON.parse(readFileSync(file, 'utf8')) as { processes: { name: string; pid: number }[] };
    const entry = state.processes.find((p) => p.name === name);
    if (entry === undefined) throw new Error(`${name} is gone from ${file}`);
    entry.pid = pid;
    writeFileSync(`${file}.chaos.tmp`, JSON.stringify(state, null, 2));
    renameSync(`${file}.chaos.tmp`, file);
  }
}

/** A part's role from its name as `k8ts up` gives it (`store-2`, `controller-manager-1`, `node-3`, …). */
export function role(name: string): string {
  if (name === 'nats-server' || name === 'simulated-nodes') return name;
  return name.replace(/-\d+$/, '');
}

function optional(p: StateProcess): Pick<Part, 'healthUrl' | 'lease' | 'rootDir'> {
  return {
    ...(p.healthUrl === undefined ? {} : { healthUrl: p.healthUrl }),
    ...(p.lease === undefined ? {} : { lease: p.lease }),
    ...(p.rootDir === undefined ? {} : { rootDir: p.rootDir }),
  };
}

/** `--flag value` or `--flag=value` in an argv; throws when absent (the state file and argv disagree). */
export function flagValue(argv: readonly string[], flag: string): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag && argv[i + 1] !== undefined) return argv[i + 1] as string;
    if (argv[i]?.startsWith(`${flag}=`)) return (argv[i] as string).slice(flag.length + 1);
  }
  throw new Error(`no ${flag} in ${argv.join(' ')}`);
}

/** The running process's argv; behind its node host's `enter` when it runs in another network namespace. */
function procCommand(p: StateProcess, state: StateFile): string[] {
  const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
  if (argv.at(-1) === '') argv.pop();
  const host = state.nodeHosts?.[p.name];
  if (host !== undefined && readlinkSync(`/proc/${p.pid}/ns/net`) !== readlinkSync('/proc/self/ns/net')) return [...host.enterWithCgroups, ...argv];
  return argv;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
