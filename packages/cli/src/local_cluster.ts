import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';

/**
 * `k8ts up | down | status`: a whole cluster as local processes, no Docker — three store members
 * and two API servers (plain HTTP on loopback), their data, logs and a kubeconfig in one folder.
 */

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name);

interface ClusterState {
  processes: { name: string; pid: number; log: string }[];
  apiservers: string[];
  kubeconfig: string;
}

function stateFile(dir: string): string {
  return join(dir, 'cluster.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function start(dir: string, name: string, command: string, args: string[]): { name: string; pid: number; log: string } {
  const log = join(dir, 'logs', `${name}.log`);
  const out = openSync(log, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  return { name, pid: child.pid as number, log };
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

function kubeconfig(server: string): string {
  return `apiVersion: v1\nkind: Config\nclusters:\n- name: k8ts\n  cluster:\n    server: ${server}\ncontexts:\n- name: k8ts\n  context:\n    cluster: k8ts\n    user: k8ts\n    namespace: default\ncurrent-context: k8ts\nusers:\n- name: k8ts\n  user: {}\n`;
}

async function up(options: { dir: string; basePort: number }): Promise<void> {
  const dir = resolve(options.dir);
  if (existsSync(stateFile(dir))) {
    const state = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as ClusterState;
    if (state.processes.some((p) => alive(p.pid))) throw new Error(`a cluster is already running from ${dir} (k8ts status; k8ts down)`);
  }
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const base = options.basePort;
  const members = [1, 2, 3].map((i) => ({ name: `store-${i}`, client: base + i, peer: base + 10 + i }));
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const processes = members.map((m) =>
    start(dir, m.name, bin('k8ts-store'), [
      '--name', m.name,
      '--data-dir', join(dir, 'data', m.name),
      '--listen-client-urls', `http://127.0.0.1:${m.client}`,
      '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-cluster', initialCluster,
    ]),
  );
  const etcdServers = members.map((m) => `127.0.0.1:${m.client}`).join(',');
  const apiservers = [1, 2].map((i) => `http://127.0.0.1:${base + 20 + i}`);
  const grpcApis = [1, 2].map((i) => `127.0.0.1:${base + 30 + i}`);
  const state: ClusterState = { processes, apiservers, kubeconfig: join(dir, 'kubeconfig') };
  writeFileSync(stateFile(dir), JSON.stringify(state, null, 2));
  for (const m of members) await waitReady(`http://127.0.0.1:${m.client}/health`, 30_000);
  for (const [i, url] of apiservers.entries()) {
    const port = new URL(url).port;
    const grpcPort = (grpcApis[i] as string).split(':')[1] as string;
    processes.push(
      start(dir, `apiserver-${i + 1}`, bin('k8ts-apiserver'), ['--etcd-servers', etcdServers, '--bind-address', '127.0.0.1', '--port', port, '--grpc-port', grpcPort, '--secure-port', '0']),
    );
    writeFileSync(stateFile(dir), JSON.stringify(state, null, 2));
  }
  for (const url of apiservers) await waitReady(`${url}/readyz`, 30_000);
  // Two scheduler replicas; one leads (the Lease kube-system/kube-scheduler), the other waits to take over.
  const schedulerHealth = [1, 2].map((i) => `http://127.0.0.1:${base + 40 + i}`);
  for (const [i, url] of schedulerHealth.entries()) {
    processes.push(start(dir, `scheduler-${i + 1}`, bin('k8ts-scheduler'), ['--master', grpcApis.join(','), '--bind-address', '127.0.0.1', '--port', new URL(url).port]));
    writeFileSync(stateFile(dir), JSON.stringify(state, null, 2));
  }
  for (const url of schedulerHealth) await waitReady(`${url}/healthz`, 30_000);
  writeFileSync(state.kubeconfig, kubeconfig(apiservers[0] as string));
  console.log(
    `k8ts cluster up: 3 store members (${etcdServers}), 2 apiservers (${apiservers.join(', ')}; components' gRPC API on ${grpcApis.join(', ')}), 2 schedulers`,
  );
  console.log(`logs and data in ${dir}`);
  console.log(`\n  export KUBECONFIG=${state.kubeconfig}\n  kubectl get namespaces\n`);
}

async function down(options: { dir: string; purge: boolean }): Promise<void> {
  const dir = resolve(options.dir);
  if (!existsSync(stateFile(dir))) {
    console.log(`no cluster state in ${dir}`);
    return;
  }
  const state = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as ClusterState;
  // API servers first, then the store.
  for (const p of [...state.processes].reverse()) if (alive(p.pid)) process.kill(p.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (state.processes.some((p) => alive(p.pid)) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
  for (const p of state.processes) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
  rmSync(stateFile(dir));
  if (options.purge) rmSync(dir, { recursive: true, force: true });
  console.log(`k8ts cluster down${options.purge ? ' (data removed)' : ` (data kept in ${dir})`}`);
}

function status(options: { dir: string }): void {
  const dir = resolve(options.dir);
  if (!existsSync(stateFile(dir))) {
    console.log(`no cluster state in ${dir}`);
    process.exitCode = 1;
    return;
  }
  const state = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as ClusterState;
  for (const p of state.processes) console.log(`${p.name.padEnd(12)} pid ${String(p.pid).padEnd(8)} ${alive(p.pid) ? 'running' : 'stopped'}  ${p.log}`);
  console.log(`kubeconfig: ${state.kubeconfig}`);
  if (state.processes.some((p) => !alive(p.pid))) process.exitCode = 1;
}

export function clusterCommands(program: Command): void {
  const dirOption = new Option('--dir <dir>', 'folder for the cluster state, data, logs and kubeconfig').default('.k8ts').env('K8TS_HOME');
  program
    .command('up')
    .description('start a local cluster as processes (3 store members, 2 apiservers, 2 schedulers) and write its kubeconfig')
    .addOption(dirOption)
    .addOption(new Option('--base-port <port>', 'ports used: base+1..3 store clients, base+11..13 store peers, base+21..22 apiservers (HTTP), base+31..32 (gRPC), base+41..42 schedulers (health)').default(32300).argParser(Number))
    .action((options: { dir: string; basePort: number }) => up(options));
  program
    .command('down')
    .description('stop the local cluster')
    .addOption(dirOption)
    .option('--purge', 'also remove its data', false)
    .action((options: { dir: string; purge: boolean }) => down(options));
  program
    .command('status')
    .description("show the local cluster's processes")
    .addOption(dirOption)
    .action((options: { dir: string }) => status(options));
}
