import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { canUseNamespaces, tearDownNode } from '@k8ts/kubelet';
import { CLUSTER_PART_ENV, NodeHostNetwork, kubeconfigFor, launchProcess, pidAlive, stopPids, tearDownNodeIn, waitHealthy, type NodeHost } from '@k8ts/testkit';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MAX_PROCESS_NODES, loopbackNodeIp, nodeNetworkName, nodeSubnet, onPath, planAgents, processNodeName, simulatedNodeNames, waitNodesReady, type NodePlacement } from './cluster_nodes.js';
import { logs } from './cluster_logs.js';
import { readSettings, readState, resumedSettings, stateFile, storeHostsFor, writeSettings, writeState, type ClusterProcess, type ClusterSettings, type ClusterState } from './cluster_state.js';
import { status } from './cluster_status.js';
import { planCluster, type LaunchPlan, type PartPlan } from './launch_plan.js';
import { checkTools } from './required_tools.js';

/**
 * `k8ts up | down | status | logs`: a whole cluster as local processes, no Docker — three store
 * members, two API servers (plain HTTP), two schedulers and two controller managers (one of each
 * leads), nats-server (the API servers' way to the nodes for logs and exec), N node agents of the
 * process runtime and optionally one agent of M simulated nodes; their data, logs and a kubeconfig
 * in one folder. `up` on a folder whose cluster was stopped resumes it from its data.
 */

/** How long `k8ts up` waits for each process to answer on its health URL. */
const READY_TIMEOUT_MS = 30_000;

function lastLines(file: string, count: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '';
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The processes `k8ts up` starts, the state file that lets `down`, `status` and `logs` find them, and the progress lines. */
class Launch {
  readonly state: ClusterState;
  private readonly waits: Promise<void>[] = [];

  constructor(
    private readonly dir: string,
    apiservers: readonly string[],
  ) {
    this.state = { processes: [], apiservers: [...apiservers], kubeconfig: join(dir, 'kubeconfig') };
  }

  /**
   * Starts a part detached (it outlives `k8ts up`), its output appended to logs/<name>.log; recorded
   * at once with its command line. `enter` runs it inside a node host (the prefix execs it in place:
   * the pid is its own). Prints a line when it answers on its health URL.
   */
  start(part: PartPlan): void {
    const log = join(this.dir, 'logs', `${part.name}.log`);
    const command = [...(part.enter ?? []), part.binary, ...part.args];
    const [file, ...argv] = command as [string, ...string[]];
    const startedMs = performance.now();
    const child: ChildProcess = launchProcess(file, argv, { output: { file: log }, detached: true, env: CLUSTER_PART_ENV });
    child.unref();
    if (child.pid !== undefined) {
      const entry: ClusterProcess = { name: part.name, pid: child.pid, log, command };
      if (part.lease !== undefined) Object.assign(entry, { healthUrl: new URL(part.healthUrl).origin, lease: part.lease });
      if (part.rootDir !== undefined) entry.rootDir = part.rootDir;
      if (part.clientUrl !== undefined) entry.clientUrl = part.clientUrl;
      this.state.processes.push(entry);
      this.save();
    }
    const healthy = waitHealthy(part.healthUrl, { timeoutMs: part.healthTimeoutMs ?? READY_TIMEOUT_MS, name: part.name, process: child, log: () => lastLines(log, 20) });
    this.waits.push(healthy.then(() => console.log(`  ${part.name.padEnd(22)} ready in ${seconds(performance.now() - startedMs)}`)));
  }

  save(): void {
    writeState(this.dir, this.state);
  }

  /** Waits until everything started since the last call answers on its health URL. */
  async healthy(): Promise<void> {
    const waits = this.waits.splice(0);
    const results = await Promise.allSettled(waits);
    const failed = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).message] : []));
    if (failed.length > 0) throw new Error(`${failed.join('\n')}\n(k8ts logs --dir ${this.dir} PART shows a part's log; k8ts down --dir ${this.dir} stops what did start)`);
  }
}

interface UpOptions extends ClusterSettings {
  dir: string;
}

/** Says exactly what to install when a program `up` needs is missing; stops when it cannot go on. */
async function checkMachine(nodes: number): Promise<{ natsServer: string; hosted: boolean }> {
  const support = await canUseNamespaces();
  // Not ok only for missing tools means the privileges are there (root): then the node network needs them.
  const privileged = support.ok || (support.reason ?? '').startsWith('missing on PATH');
  const tools = checkTools({ present: (binary) => onPath(binary) !== undefined, privileged, nodes });
  for (const warning of tools.warnings) console.error(`k8ts: ${warning}`);
  if (tools.missing.length > 0) throw new Error(tools.missing.join('\nk8ts: '));
  return { natsServer: onPath('nats-server') ?? 'nats-server', hosted: nodes > 0 && support.ok };
}

/**
 * Gets a folder ready: a cluster running there is refused; one that stopped without `down` (a
 * crash, a reboot) leaves pods' processes and a node network behind, which go first.
 */
async function prepareFolder(dir: string): Promise<boolean> {
  const previous = readState(dir);
  if (previous?.processes.some((p) => pidAlive(p.pid))) throw new Error(`a cluster is already running from ${dir} (k8ts status; k8ts down)`);
  if (previous !== undefined) await cleanUpNodes(dir, previous);
  return existsSync(join(dir, 'data'));
}

async function up(options: UpOptions, given: ReadonlySet<keyof ClusterSettings>): Promise<void> {
  const startedMs = performance.now();
  const dir = resolve(options.dir);
  // Settings bind only once the store has data (a first `up` that failed may be retried with others).
  const saved = existsSync(join(dir, 'data')) ? readSettings(dir) : undefined;
  const settings = resumedSettings(saved, options, given);
  if (settings.nodes > MAX_PROCESS_NODES) throw new Error(`--nodes ${settings.nodes}: at most ${MAX_PROCESS_NODES} process-runtime nodes (use --simulated-nodes for more)`);
  const machine = await checkMachine(settings.nodes);
  const resuming = await prepareFolder(dir);
  const storeHosts = storeHostsFor(saved, machine.hosted);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeSettings(dir, { ...settings, storeHosts });
  const base = settings.basePort;
  console.log(`${resuming ? 'resuming the k8ts cluster' : 'starting a k8ts cluster'} in ${dir} (base port ${base}, ${settings.nodes} nodes${settings.simulatedNodes > 0 ? `, ${settings.simulatedNodes} simulated` : ''})`);

  // As root, each process node is a node host: a network namespace of its own on a bridge here, so
  // cutting one off is a real network fault. The control plane then listens on the bridge's address
  // (the nodes cannot reach this namespace's loopback). The store members get hosts of their own on
  // the same bridge too, so that their links to each other can fail (isolation, partitions, loss).
  const network = machine.hosted ? await NodeHostNetwork.create({ name: nodeNetworkName(base), subnet: nodeSubnet(base) }) : undefined;
  const hosts = new Map<number, NodeHost>();
  const placement = (index: number): NodePlacement => {
    const host = hosts.get(index);
    return host === undefined ? { ip: loopbackNodeIp(index), enter: [] } : { ip: host.ip, enter: host.enterWithCgroups };
  };
  // The hosts first (the parts' flags name their addresses), each recorded at once for `down` to
  // remove; the nodes' before the stores' so that nodes keep the addresses they had before stores had hosts.
  const nodeHosts: Record<string, NodeHost> = {};
  const storeHostsByName: Record<string, NodeHost> = {};
  if (network !== undefined) {
    const nodeNetwork = { name: network.name, subnet: network.subnet, gateway: network.gateway };
    const record = (): void => writeState(dir, { processes: [], apiservers: [], kubeconfig: join(dir, 'kubeconfig'), nodeNetwork, nodeHosts, ...(storeHosts ? { storeHosts: storeHostsByName } : {}) });
    record();
    for (let index = 1; index <= settings.nodes; index++) {
      const host = await network.addHost(processNodeName(index));
      hosts.set(index, host);
      nodeHosts[host.name] = host;
      record();
    }
    for (let index = 1; storeHosts && index <= 3; index++) {
      const host = await network.addHost(`store-${index}`);
      storeHostsByName[host.name] = host;
      record();
    }
  }
  const storeHost = (index: number): NodeHost => storeHostsByName[`store-${index}`] as NodeHost;
  const plan = planCluster({
    dir,
    basePort: base,
    controlIp: network?.gateway ?? '127.0.0.1',
    natsServer: machine.natsServer,
    agents: ({ grpcApis, natsUrl }) => planAgents({ dir, basePort: base, grpcApis, natsUrl, nodes: settings.nodes, simulatedNodes: settings.simulatedNodes, placement }),
    ...(storeHosts ? { storePlacement: (index: number) => ({ ip: storeHost(index).ip, enter: storeHost(index).enter }) } : {}),
  });
  const launch = new Launch(dir, plan.apiservers);
  if (network !== undefined) {
    launch.state.nodeNetwork = { name: network.name, subnet: network.subnet, gateway: network.gateway };
    launch.state.nodeHosts = nodeHosts;
    if (storeHosts) launch.state.storeHosts = storeHostsByName;
  }
  launch.state.nodes = Array.from({ length: settings.nodes }, (_, i) => processNodeName(i + 1));
  launch.state.simulatedNodes = settings.simulatedNodes > 0 ? simulatedNodeNames(settings.simulatedNodes) : [];
  launch.save();
  await runPlan(plan, launch);

  const agents = plan.stages.find((stage) => stage.title === 'nodes')?.parts ?? [];
  const allNodes = [...launch.state.nodes, ...launch.state.simulatedNodes];
  const nodesMs = performance.now();
  await waitNodesReady(plan.apiservers[0] ?? '', allNodes, Math.max(READY_TIMEOUT_MS, ...agents.map((agent) => agent.healthTimeoutMs ?? 0)));
  if (allNodes.length > 0) console.log(`  ${'nodes Ready'.padEnd(22)} in ${seconds(performance.now() - nodesMs)} (${allNodes.length} nodes)`);

  writeFileSync(launch.state.kubeconfig, kubeconfigFor(plan.kubeconfigServer));
  printUsage(plan, settings, launch.state, dir, performance.now() - startedMs);
}

/** Starts each stage's parts together; the next stage once they all answer (or with them: `withPrevious`). */
async function runPlan(plan: LaunchPlan, launch: Launch): Promise<void> {
  for (const stage of plan.stages) {
    if (stage.withPrevious !== true) await launch.healthy();
    for (const part of stage.parts) {
      if (part.rootDir !== undefined) mkdirSync(part.rootDir, { recursive: true });
      launch.start(part);
    }
  }
  await launch.healthy();
}

function printUsage(plan: LaunchPlan, settings: ClusterSettings, state: ClusterState, dir: string, elapsedMs: number): void {
  const simulated = settings.simulatedNodes > 0 ? ` and ${settings.simulatedNodes} simulated nodes in one agent` : '';
  console.log(
    `k8ts cluster up in ${seconds(elapsedMs)}: 3 store members (${plan.etcdServers.join(',')}), 2 apiservers (${plan.apiservers.join(', ')}; components' gRPC API on ${plan.grpcApis.join(', ')}) behind the API load balancer (${plan.kubeconfigServer}), 2 schedulers, 2 controller managers, nats-server (${plan.natsUrl}), ${settings.nodes} nodes${simulated}, all Ready`,
  );
  const hosts = [...Object.values(state.nodeHosts ?? {}), ...Object.values(state.storeHosts ?? {})];
  console.log(
    state.nodeNetwork === undefined
      ? `nodes share this network namespace, each on a loopback address (127.0.1.N): pods share their node's address, with no cluster DNS or Service proxying (run as root for pod networks)`
      : `${state.storeHosts === undefined ? 'nodes' : 'nodes and store members'} in network namespaces of their own on bridge ${state.nodeNetwork.name} (${state.nodeNetwork.subnet}): ${hosts.map((host) => `${host.name} ${host.ip}`).join(', ')}`,
  );
  console.log(`logs and data in ${dir} (k8ts status, k8ts logs [PART] [-f], k8ts down [--purge] with --dir ${dir})`);
  console.log(`\n  export KUBECONFIG=${state.kubeconfig}\n  kubectl get nodes\n`);
}

/**
 * What a stopped agent leaves (as a kubelet does, its pods' processes keep running): the cluster
 * going down takes them too, and the pods' network — veths, bridges, masquerade rules, the pods'
 * namespaces (the agents' records stay, with the data) — and the node hosts.
 */
async function cleanUpNodes(dir: string, state: ClusterState | undefined): Promise<void> {
  let stopped = 0;
  for (const rootDir of nodeRootDirs(dir)) {
    // A node host's pod network is in its namespace: torn down from inside (a same-named bridge here is not its).
    const host = state?.nodeHosts?.[basename(rootDir)];
    const tearDown = host === undefined ? tearDownNode(rootDir) : tearDownNodeIn(host, rootDir).then(() => 0);
    stopped += await tearDown.catch((error: unknown) => {
      console.error(`${rootDir}: node not torn down: ${(error as Error).message}`);
      return 0;
    });
  }
  if (stopped > 0) console.log(`stopped ${stopped} container(s) of the nodes' pods`);
  if (state?.nodeNetwork !== undefined) await NodeHostNetwork.destroy(state.nodeNetwork.name);
}

async function down(options: { dir: string; purge: boolean }): Promise<void> {
  const dir = resolve(options.dir);
  const state = readState(dir);
  if (state === undefined && !(options.purge && existsSync(dir))) {
    console.log(`no cluster state in ${dir}`);
    return;
  }
  if (state !== undefined) {
    // The node agents first, then the components, then the API servers, then the store: the reverse of `up`.
    await stopPids(state.processes.map((p) => p.pid).reverse(), 10_000);
  }
  await cleanUpNodes(dir, state);
  if (state !== undefined) rmSync(stateFile(dir));
  if (options.purge) rmSync(dir, { recursive: true, force: true });
  console.log(`k8ts cluster down${options.purge ? ' (data removed)' : ` (data kept in ${dir}: k8ts up resumes it)`}`);
}

/** The node agents' root dirs (`<dir>/nodes/<name>`). */
function nodeRootDirs(dir: string): string[] {
  const nodes = join(dir, 'nodes');
  return existsSync(nodes) ? readdirSync(nodes).map((name) => join(nodes, name)) : [];
}

const count = (flag: string) => (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`${flag} takes a non-negative integer`);
  return parsed;
};

const port = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65_535 - 200) throw new InvalidArgumentError('--base-port takes a port number (it and the 200 above it are used)');
  return parsed;
};

export function clusterCommands(program: Command): void {
  const dirOption = (): Option => new Option('--dir <dir>', 'folder for the cluster state, data, logs and kubeconfig').default('.k8ts').env('K8TS_HOME');
  const upCommand = program
    .command('up')
    .description(
      'start a local cluster as processes (3 store members, 2 apiservers behind an API load balancer, 2 schedulers, 2 controller managers, nats-server, --nodes node agents and ' +
        'optionally one agent of --simulated-nodes simulated nodes), write its kubeconfig, and return once every node is Ready. ' +
        'On a folder whose cluster was stopped, resumes it from its data with the settings it was made with',
    )
    .addOption(dirOption())
    .addOption(new Option('--nodes <n>', `node agents of the process runtime (pods are processes), 0..${MAX_PROCESS_NODES}`).default(3).argParser(count('--nodes')))
    .addOption(new Option('--simulated-nodes <m>', 'one more agent holding this many simulated nodes (pods have no processes, as kwok)').default(0).argParser(count('--simulated-nodes')))
    .addOption(
      new Option(
        '--base-port <port>',
        'ports used: base+1..3 store clients, base+11..13 store peers, base+20 the API load balancer (kubeconfig) and base+25 its health, base+21..22 apiservers (HTTP), base+31..32 (gRPC), base+41..42 schedulers and base+51..52 controller managers (health, metrics), base+60..61 nats-server (client, monitoring), base+62..63 the simulated nodes\' agent, base+100+2i..101+2i node i\'s agent (healthz, server)',
      )
        .default(32300)
        .argParser(port),
    );
  upCommand.action((options: UpOptions) => {
    const given = new Set((['basePort', 'nodes', 'simulatedNodes'] as const).filter((key) => upCommand.getOptionValueSource(key) !== 'default'));
    return up(options, given);
  });
  program
    .command('down')
    .description('stop the local cluster (its data stays for `k8ts up` to resume)')
    .addOption(dirOption())
    .option('--purge', 'also remove its data', false)
    .action((options: { dir: string; purge: boolean }) => down(options));
  program
    .command('status')
    .description("show the local cluster's processes (pid, up or down, CPU% over 1 s, RSS), the store's leader, term, commit index and followers' lag, which scheduler and controller manager lead, and each node's readiness")
    .addOption(dirOption())
    .action((options: { dir: string }) => status(options));
  program
    .command('logs')
    .description("list the local cluster's parts, or print one's log (PART: a name `k8ts logs` lists); --bundle packs every log with the status into a .tar.gz")
    .argument('[part]', 'a process of the cluster: nats-server, store-1, apiserver-1, scheduler-1, controller-manager-1, node-1, …')
    .addOption(dirOption())
    .option('-f, --follow', 'keep printing what the part logs (as tail -f)', false)
    .option('--bundle <file>', 'write every part\'s log, `k8ts status` and the state file into FILE (.tar.gz) for a bug report')
    .action((part: string | undefined, options: { dir: string; follow: boolean; bundle?: string }) => logs(part, options));
}
