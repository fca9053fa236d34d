import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { canUseNamespaces, tearDownNode } from '@k8ts/kubelet';
import { NodeHostNetwork, kubeconfigFor, launchProcess, pidAlive, stopPids, tearDownNodeIn, waitHealthy, type NodeHost } from '@k8ts/testkit';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CLUSTER_CIDR, MAX_PROCESS_NODES, formatNodes, loopbackNodeIp, nodeNetworkName, nodeSubnet, onPath, planAgents, processNodeName, readNodes, waitNodesReady, type NodePlacement } from './cluster_nodes.js';
import { formatLeaderReport, leaderReports, type ElectingProcess } from './leaders.js';

/**
 * `k8ts up | down | status`: a whole cluster as local processes, no Docker — three store members,
 * two API servers (plain HTTP on loopback), two schedulers and two controller managers (one of each
 * leads), nats-server (the API servers' way to the nodes for logs and exec), N node agents of the
 * process runtime and optionally one agent of M simulated nodes; their data, logs and a kubeconfig
 * in one folder.
 */

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name);

/** How long `k8ts up` waits for each process to answer on its health URL. */
const READY_TIMEOUT_MS = 30_000;

interface ClusterProcess {
  name: string;
  pid: number;
  log: string;
  /** /healthz and /metrics of a scheduler or controller manager. */
  healthUrl?: string;
  /** The Lease (kube-system) it campaigns for. */
  lease?: string;
  /** A node agent's --root-dir (its pods' processes are found there when it is gone). */
  rootDir?: string;
}

interface ClusterState {
  processes: ClusterProcess[];
  /** As root: the node hosts' network (a bridge here) and each process node's host. */
  nodeNetwork?: { name: string; subnet: string; gateway: string };
  nodeHosts?: Record<string, NodeHost>;
  apiservers: string[];
  kubeconfig: string;
  /** The Nodes of process-runtime agents, and how many simulated ones (absent in older state files). */
  nodes?: string[];
  simulatedNodes?: string[];
}

function stateFile(dir: string): string {
  return join(dir, 'cluster.json');
}

function readState(dir: string): ClusterState | undefined {
  return existsSync(stateFile(dir)) ? (JSON.parse(readFileSync(stateFile(dir), 'utf8')) as ClusterState) : undefined;
}

function lastLines(file: string, count: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '';
  }
}

/** The processes `k8ts up` starts and the state file that lets `down` and `status` find them. */
class Launch {
  readonly state: ClusterState;
  private readonly waits: Promise<void>[] = [];

  constructor(
    private readonly dir: string,
    apiservers: string[],
  ) {
    this.state = { processes: [], apiservers, kubeconfig: join(dir, 'kubeconfig') };
  }

  /**
   * Starts a process detached (it outlives `k8ts up`), its output in logs/<name>.log; recorded at
   * once. `enter` runs it inside a node host (the prefix execs it in place: the pid is its own).
   */
  start(name: string, binary: string, args: readonly string[], health: { url: string; lease?: string; rootDir?: string; timeoutMs?: number; enter?: readonly string[] }): void {
    const log = join(this.dir, 'logs', `${name}.log`);
    const [file, ...argv] = [...(health.enter ?? []), binary, ...args] as [string, ...string[]];
    const child: ChildProcess = launchProcess(file, argv, { output: { file: log }, detached: true });
    child.unref();
    if (child.pid !== undefined) {
      const entry: ClusterProcess = { name, pid: child.pid, log };
      if (health.lease !== undefined) Object.assign(entry, { healthUrl: new URL(health.url).origin, lease: health.lease });
      if (health.rootDir !== undefined) entry.rootDir = health.rootDir;
      this.state.processes.push(entry);
      this.save();
    }
    this.waits.push(waitHealthy(health.url, { timeoutMs: health.timeoutMs ?? READY_TIMEOUT_MS, name, process: child, log: () => lastLines(log, 20) }));
  }

  save(): void {
    writeFileSync(stateFile(this.dir), JSON.stringify(this.state, null, 2));
  }

  /** Waits until everything started since the last call answers on its health URL. */
  async healthy(): Promise<void> {
    const waits = this.waits.splice(0);
    const results = await Promise.allSettled(waits);
    const failed = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).message] : []));
    if (failed.length > 0) throw new Error(`${failed.join('\n')}\n(k8ts down --dir ${this.dir} stops what did start)`);
  }
}

interface UpOptions {
  dir: string;
  basePort: number;
  nodes: number;
  simulatedNodes: number;
}

async function up(options: UpOptions): Promise<void> {
  const dir = resolve(options.dir);
  if (options.nodes > MAX_PROCESS_NODES) throw new Error(`--nodes ${options.nodes}: at most ${MAX_PROCESS_NODES} process-runtime nodes (use --simulated-nodes for more)`);
  const natsServer = onPath('nats-server');
  if (natsServer === undefined) throw new Error('nats-server is not on PATH: install it (Debian/Ubuntu: apt-get install nats-server)');
  const running = readState(dir);
  if (running?.processes.some((p) => pidAlive(p.pid))) throw new Error(`a cluster is already running from ${dir} (k8ts status; k8ts down)`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const base = options.basePort;
  // As root, each process node is a node host: a network namespace of its own on a bridge here, so
  // cutting one off is a real network fault. The control plane then listens on the bridge's address
  // (the nodes cannot reach this namespace's loopback); the store stays on loopback.
  const hosted = options.nodes > 0 && (await canUseNamespaces()).ok;
  const network = hosted ? await NodeHostNetwork.create({ name: nodeNetworkName(base), subnet: nodeSubnet(base) }) : undefined;
  const controlIp = network?.gateway ?? '127.0.0.1';
  const address = (offset: number): string => `127.0.0.1:${base + offset}`;
  const controlAddress = (offset: number): string => `${controlIp}:${base + offset}`;
  const members = [1, 2, 3].map((i) => ({ name: `store-${i}`, client: `http://${address(i)}`, peer: `http://${address(10 + i)}` }));
  const apiservers = [1, 2].map((i) => `http://${controlAddress(20 + i)}`);
  const grpcApis = [1, 2].map((i) => controlAddress(30 + i));
  const launch = new Launch(dir, apiservers);
  const hosts = new Map<number, NodeHost>();
  if (network !== undefined) {
    launch.state.nodeNetwork = { name: network.name, subnet: network.subnet, gateway: network.gateway };
    launch.state.nodeHosts = {};
    launch.save();
    for (let index = 1; index <= options.nodes; index++) {
      const host = await network.addHost(processNodeName(index));
      hosts.set(index, host);
      launch.state.nodeHosts[processNodeName(index)] = host;
      launch.save();
    }
  }
  const natsUrl = `nats://${controlAddress(60)}`;

  // NATS first: the API servers reach the nodes through it (logs, exec, attach, port-forward).
  launch.start('nats-server', natsServer, ['-a', controlIp, '-p', String(base + 60), '-m', String(base + 61)], { url: `http://${controlAddress(61)}/healthz` });
  await launch.healthy();

  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
  for (const m of members) {
    launch.start(m.name, bin('k8ts-store'), [
      '--name', m.name,
      '--data-dir', join(dir, 'data', m.name),
      '--listen-client-urls', m.client,
      '--advertise-client-urls', m.client,
      '--listen-peer-urls', m.peer,
      '--initial-advertise-peer-urls', m.peer,
      '--initial-cluster', initialCluster,
    ], { url: `${m.client}/health` });
  }
  await launch.healthy();

  const etcdServers = members.map((m) => new URL(m.client).host).join(',');
  for (const [i, url] of apiservers.entries()) {
    const grpcPort = (grpcApis[i] as string).split(':')[1] as string;
    const args = ['--etcd-servers', etcdServers, '--bind-address', controlIp, '--port', new URL(url).port, '--grpc-port', grpcPort, '--secure-port', '0', '--nats-url', natsUrl];
    launch.start(`apiserver-${i + 1}`, bin('k8ts-apiserver'), args, { url: `${url}/readyz` });
  }
  await launch.healthy();

  // Two replicas of each; one leads (the Lease kube-system/<lease>), the other waits to take over.
  const components = [
    { name: 'scheduler', binary: 'k8ts-scheduler', lease: 'kube-scheduler', portOffset: 40 },
    { name: 'controller-manager', binary: 'k8ts-controller-manager', lease: 'kube-controller-manager', portOffset: 50 },
  ];
  for (const component of components) {
    for (const i of [1, 2]) {
      const port = base + component.portOffset + i;
      const args = ['--master', grpcApis.join(','), '--bind-address', '127.0.0.1', '--port', String(port)];
      // Node IPAM, as kind and kubeadm clusters have it: each node's podCIDR for its pods' addresses.
      if (component.name === 'controller-manager') args.push('--allocate-node-cidrs', '--cluster-cidr', CLUSTER_CIDR);
      launch.start(`${component.name}-${i}`, bin(component.binary), args, { url: `http://127.0.0.1:${port}/healthz`, lease: component.lease });
    }
  }
  await launch.healthy();

  // The nodes: each agent answers /healthz once its Node is registered; `up` returns once all are Ready.
  const placement = (index: number): NodePlacement => {
    const host = hosts.get(index);
    return host === undefined ? { ip: loopbackNodeIp(index), enter: [] } : { ip: host.ip, enter: host.enterWithCgroups };
  };
  const agents = planAgents({ dir, basePort: base, grpcApis, natsUrl, nodes: options.nodes, simulatedNodes: options.simulatedNodes, placement });
  launch.state.nodes = agents.filter((agent) => agent.name !== 'simulated-nodes').flatMap((agent) => agent.nodeNames);
  launch.state.simulatedNodes = [...(agents.find((agent) => agent.name === 'simulated-nodes')?.nodeNames ?? [])];
  for (const agent of agents) {
    mkdirSync(agent.rootDir, { recursive: true });
    launch.start(agent.name, bin('k8ts-node-agent'), agent.args, { url: agent.healthUrl, rootDir: agent.rootDir, timeoutMs: agent.healthTimeoutMs, enter: agent.enter });
  }
  await launch.healthy();
  const nodeNames = agents.flatMap((agent) => agent.nodeNames);
  await waitNodesReady(apiservers[0] as string, nodeNames, Math.max(READY_TIMEOUT_MS, ...agents.map((agent) => agent.healthTimeoutMs)));

  writeFileSync(launch.state.kubeconfig, kubeconfigFor(apiservers[0] as string));
  const simulated = options.simulatedNodes > 0 ? ` and ${options.simulatedNodes} simulated nodes in one agent` : '';
  console.log(
    `k8ts cluster up: 3 store members (${etcdServers}), 2 apiservers (${apiservers.join(', ')}; components' gRPC API on ${grpcApis.join(', ')}), 2 schedulers, 2 controller managers, nats-server (${natsUrl}), ${options.nodes} nodes${simulated}, all Ready`,
  );
  console.log(
    network === undefined
      ? `nodes share this network namespace, each on a loopback address (127.0.1.N): pods share their node's address, with no cluster DNS or Service proxying (run as root for pod networks)`
      : `nodes in network namespaces of their own on bridge ${network.name} (${network.subnet}): ${[...hosts.values()].map((host) => `${host.name} ${host.ip}`).join(', ')}`,
  );
  console.log(`logs and data in ${dir}`);
  console.log(`\n  export KUBECONFIG=${launch.state.kubeconfig}\n  kubectl get namespaces\n`);
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
  // A stopped agent leaves its pods' processes running (as a kubelet does); the cluster going down
  // takes them too, and the pods' network: veths, bridges, masquerade rules, the pods' namespaces
  // (the agents' records stay, with the data).
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
  if (state !== undefined) rmSync(stateFile(dir));
  if (options.purge) rmSync(dir, { recursive: true, force: true });
  console.log(`k8ts cluster down${options.purge ? ' (data removed)' : ` (data kept in ${dir})`}`);
}

/** The node agents' root dirs (`<dir>/nodes/<name>`). */
function nodeRootDirs(dir: string): string[] {
  const nodes = join(dir, 'nodes');
  return existsSync(nodes) ? readdirSync(nodes).map((name) => join(nodes, name)) : [];
}

async function status(options: { dir: string }): Promise<void> {
  const dir = resolve(options.dir);
  const state = readState(dir);
  if (state === undefined) {
    console.log(`no cluster state in ${dir}`);
    process.exitCode = 1;
    return;
  }
  for (const p of state.processes) console.log(`${p.name.padEnd(20)} pid ${String(p.pid).padEnd(8)} ${pidAlive(p.pid) ? 'running' : 'stopped'}  ${p.log}`);
  if (state.nodeNetwork !== undefined) {
    const hosts = Object.values(state.nodeHosts ?? {}).map((host) => `${host.name} ${host.ip} (ip netns exec ${host.netns})`);
    console.log(`node network: bridge ${state.nodeNetwork.name} ${state.nodeNetwork.subnet}; ${hosts.join(', ')}`);
  }
  console.log(`kubeconfig: ${state.kubeconfig}`);
  const processNodes = state.nodes ?? [];
  const simulatedNodes = state.simulatedNodes ?? [];
  let nodesReady = true;
  if (state.apiservers[0] !== undefined && processNodes.length + simulatedNodes.length > 0) {
    try {
      const nodes = await readNodes(state.apiservers[0]);
      for (const line of formatNodes(nodes, processNodes, simulatedNodes)) console.log(line);
      nodesReady = [...processNodes, ...simulatedNodes].every((name) => nodes.get(name)?.ready === 'True');
    } catch (error) {
      console.log(`nodes: not readable (${(error as Error).message})`);
      nodesReady = false;
    }
  }
  const electing = state.processes.flatMap((p): ElectingProcess[] =>
    p.healthUrl !== undefined && p.lease !== undefined && pidAlive(p.pid) ? [{ name: p.name, healthUrl: p.healthUrl, lease: p.lease }] : [],
  );
  const apiserver = state.apiservers[0];
  if (apiserver !== undefined && electing.length > 0) {
    for (const report of await leaderReports(apiserver, electing)) console.log(formatLeaderReport(report));
  }
  if (state.processes.some((p) => !pidAlive(p.pid)) || !nodesReady) process.exitCode = 1;
}

const count = (flag: string) => (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`${flag} takes a non-negative integer`);
  return parsed;
};

export function clusterCommands(program: Command): void {
  const dirOption = new Option('--dir <dir>', 'folder for the cluster state, data, logs and kubeconfig').default('.k8ts').env('K8TS_HOME');
  program
    .command('up')
    .description(
      'start a local cluster as processes (3 store members, 2 apiservers, 2 schedulers, 2 controller managers, nats-server, --nodes node agents and ' +
        'optionally one agent of --simulated-nodes simulated nodes), write its kubeconfig, and return once every node is Ready',
    )
    .addOption(dirOption)
    .addOption(new Option('--nodes <n>', `node agents of the process runtime (pods are processes), 0..${MAX_PROCESS_NODES}`).default(3).argParser(count('--nodes')))
    .addOption(new Option('--simulated-nodes <m>', 'one more agent holding this many simulated nodes (pods have no processes, as kwok)').default(0).argParser(count('--simulated-nodes')))
    .addOption(
      new Option(
        '--base-port <port>',
        'ports used: base+1..3 store clients, base+11..13 store peers, base+21..22 apiservers (HTTP), base+31..32 (gRPC), base+41..42 schedulers and base+51..52 controller managers (health, metrics), base+60..61 nats-server (client, monitoring), base+62..63 the simulated nodes\' agent, base+100+2i..101+2i node i\'s agent (healthz, server)',
      )
        .default(32300)
        .argParser(Number),
    )
    .action((options: UpOptions) => up(options));
  program
    .command('down')
    .description('stop the local cluster')
    .addOption(dirOption)
    .option('--purge', 'also remove its data', false)
    .action((options: { dir: string; purge: boolean }) => down(options));
  program
    .command('status')
    .description("show the local cluster's processes and which scheduler and controller manager lead")
    .addOption(dirOption)
    .action((options: { dir: string }) => status(options));
}
