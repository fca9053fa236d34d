import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kubeconfigFor, launchProcess, pidAlive, stopPids, waitHealthy } from '@k8ts/testkit';
import { Command, Option } from 'commander';
import { formatLeaderReport, leaderReports, type ElectingProcess } from './leaders.js';

/**
 * `k8ts up | down | status`: a whole cluster as local processes, no Docker — three store members,
 * two API servers (plain HTTP on loopback), two schedulers and two controller managers (one of each
 * leads), their data, logs and a kubeconfig in one folder.
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
}

interface ClusterState {
  processes: ClusterProcess[];
  apiservers: string[];
  kubeconfig: string;
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

  /** Starts a process detached (it outlives `k8ts up`), its output in logs/<name>.log; recorded at once. */
  start(name: string, binary: string, args: string[], health: { url: string; lease?: string }): void {
    const log = join(this.dir, 'logs', `${name}.log`);
    const child: ChildProcess = launchProcess(binary, args, { output: { file: log }, detached: true });
    child.unref();
    if (child.pid !== undefined) {
      const entry: ClusterProcess = { name, pid: child.pid, log };
      if (health.lease !== undefined) Object.assign(entry, { healthUrl: new URL(health.url).origin, lease: health.lease });
      this.state.processes.push(entry);
      writeFileSync(stateFile(this.dir), JSON.stringify(this.state, null, 2));
    }
    this.waits.push(waitHealthy(health.url, { timeoutMs: READY_TIMEOUT_MS, name, process: child, log: () => lastLines(log, 20) }));
  }

  /** Waits until everything started since the last call answers on its health URL. */
  async healthy(): Promise<void> {
    const waits = this.waits.splice(0);
    const results = await Promise.allSettled(waits);
    const failed = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).message] : []));
    if (failed.length > 0) throw new Error(`${failed.join('\n')}\n(k8ts down --dir ${this.dir} stops what did start)`);
  }
}

async function up(options: { dir: string; basePort: number }): Promise<void> {
  const dir = resolve(options.dir);
  const running = readState(dir);
  if (running?.processes.some((p) => pidAlive(p.pid))) throw new Error(`a cluster is already running from ${dir} (k8ts status; k8ts down)`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const base = options.basePort;
  const address = (offset: number): string => `127.0.0.1:${base + offset}`;
  const members = [1, 2, 3].map((i) => ({ name: `store-${i}`, client: `http://${address(i)}`, peer: `http://${address(10 + i)}` }));
  const apiservers = [1, 2].map((i) => `http://${address(20 + i)}`);
  const grpcApis = [1, 2].map((i) => address(30 + i));
  const launch = new Launch(dir, apiservers);

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
    const args = ['--etcd-servers', etcdServers, '--bind-address', '127.0.0.1', '--port', new URL(url).port, '--grpc-port', grpcPort, '--secure-port', '0'];
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
      launch.start(`${component.name}-${i}`, bin(component.binary), args, { url: `http://127.0.0.1:${port}/healthz`, lease: component.lease });
    }
  }
  await launch.healthy();

  writeFileSync(launch.state.kubeconfig, kubeconfigFor(apiservers[0] as string));
  console.log(
    `k8ts cluster up: 3 store members (${etcdServers}), 2 apiservers (${apiservers.join(', ')}; components' gRPC API on ${grpcApis.join(', ')}), 2 schedulers, 2 controller managers`,
  );
  console.log(`logs and data in ${dir}`);
  console.log(`\n  export KUBECONFIG=${launch.state.kubeconfig}\n  kubectl get namespaces\n`);
}

async function down(options: { dir: string; purge: boolean }): Promise<void> {
  const dir = resolve(options.dir);
  const state = readState(dir);
  if (state === undefined) {
    console.log(`no cluster state in ${dir}`);
    return;
  }
  // The components first, then the API servers, then the store: the reverse of `up`.
  await stopPids(state.processes.map((p) => p.pid).reverse(), 10_000);
  rmSync(stateFile(dir));
  if (options.purge) rmSync(dir, { recursive: true, force: true });
  console.log(`k8ts cluster down${options.purge ? ' (data removed)' : ` (data kept in ${dir})`}`);
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
  console.log(`kubeconfig: ${state.kubeconfig}`);
  const electing = state.processes.flatMap((p): ElectingProcess[] =>
    p.healthUrl !== undefined && p.lease !== undefined && pidAlive(p.pid) ? [{ name: p.name, healthUrl: p.healthUrl, lease: p.lease }] : [],
  );
  const apiserver = state.apiservers[0];
  if (apiserver !== undefined && electing.length > 0) {
    for (const report of await leaderReports(apiserver, electing)) console.log(formatLeaderReport(report));
  }
  if (state.processes.some((p) => !pidAlive(p.pid))) process.exitCode = 1;
}

export function clusterCommands(program: Command): void {
  const dirOption = new Option('--dir <dir>', 'folder for the cluster state, data, logs and kubeconfig').default('.k8ts').env('K8TS_HOME');
  program
    .command('up')
    .description('start a local cluster as processes (3 store members, 2 apiservers, 2 schedulers, 2 controller managers) and write its kubeconfig')
    .addOption(dirOption)
    .addOption(
      new Option(
        '--base-port <port>',
        'ports used: base+1..3 store clients, base+11..13 store peers, base+21..22 apiservers (HTTP), base+31..32 (gRPC), base+41..42 schedulers and base+51..52 controller managers (health, metrics)',
      )
        .default(32300)
        .argParser(Number),
    )
    .action((options: { dir: string; basePort: number }) => up(options));
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
