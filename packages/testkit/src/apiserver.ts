import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts, TestCluster, type ClusterOptions, type StoreKind } from './cluster.js';
import { waitForLeader } from './etcdctl.js';
import { describeExit, isRunning, launchProcess, signalAndWait, waitHealthy } from './launcher.js';
import { runCommand, type CommandResult } from './run.js';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const APISERVER_BINARY = join(repoRoot, 'node_modules', '.bin', 'k8ts-apiserver');

export interface ApiServerProcessOptions {
  readonly extraArgs?: readonly string[];
  /**
   * --bind-address for plain HTTP and gRPC (default 127.0.0.1). A node host's gateway address (or
   * 0.0.0.0) lets node agents in network namespaces reach it; `url` and `grpcAddress` then name this
   * address (127.0.0.1 for 0.0.0.0).
   */
  readonly bindAddress?: string;
  /** Serve the components' gRPC API on a free port (--grpc-port), named by `grpcAddress`. */
  readonly grpc?: boolean;
}

/**
 * One k8ts-apiserver process (plain HTTP via --port) over the given store endpoints, on loopback
 * unless `bindAddress` says otherwise.
 */
export class ApiServerProcess {
  private process: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly url: string,
    readonly kubeconfig: string,
    private readonly args: readonly string[],
    private readonly dir: string,
    /** The components' gRPC API (host:port), when started with `grpc: true`. */
    readonly grpcAddress: string | undefined,
  ) {}

  static async start(etcdServers: readonly string[], options: ApiServerProcessOptions = {}): Promise<ApiServerProcess> {
    const [port, grpcPort] = await freePorts(2);
    const bindAddress = options.bindAddress ?? '127.0.0.1';
    const host = bindAddress === '0.0.0.0' ? '127.0.0.1' : bindAddress;
    const dir = mkdtempSync(join(tmpdir(), 'apiserver-'));
    const url = `http://${host}:${port}`;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(url));
    const args = [
      '--etcd-servers', etcdServers.join(','),
      '--bind-address', bindAddress,
      '--port', String(port),
      '--secure-port', '0',
      ...(options.grpc === true ? ['--grpc-port', String(grpcPort)] : []),
      ...(options.extraArgs ?? []),
    ];
    const server = new ApiServerProcess(url, kubeconfig, args, dir, options.grpc === true ? `${host}:${grpcPort}` : undefined);
    server.launch();
    try {
      await server.waitReady();
    } catch (error) {
      await server.stop(); // the caller never gets a handle on it
      throw error;
    }
    return server;
  }

  launch(): void {
    this.process = launchProcess(APISERVER_BINARY, this.args, { output: { into: this, limitChars: 20_000 } });
  }

  /** Whether the process launched last is still running; false once it exited, crashed or was killed. */
  get running(): boolean {
    return isRunning(this.process);
  }

  /** How the process launched last ended ("exited with code 1"); undefined while it runs or before a launch. */
  get exitReason(): string | undefined {
    return this.process === undefined || isRunning(this.process) ? undefined : describeExit(this.process);
  }

  waitReady(timeoutMs = 20_000): Promise<void> {
    return waitHealthy(`${this.url}/readyz`, { timeoutMs, name: 'apiserver', process: this.process, log: () => this.log });
  }

  /** Runs the real kubectl against this server. */
  kubectl(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    return kubectl(this.kubeconfig, args, options);
  }

  /** Stops the process with `signal` (SIGKILL: a crash) and waits for its exit; `launch()` starts it again. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    this.process = undefined;
    await signalAndWait(child, signal);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function kubeconfigFor(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: k8ts',
    '  cluster:',
    `    server: ${server}`,
    'contexts:',
    '- name: k8ts',
    '  context:',
    '    cluster: k8ts',
    '    user: k8ts',
    '    namespace: default',
    'current-context: k8ts',
    'users:',
    '- name: k8ts',
    '  user: {}',
    '',
  ].join('\n');
}

/** The real kubectl (1.32 on these machines) with a given kubeconfig. */
export function kubectl(kubeconfig: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return runCommand('kubectl', ['--kubeconfig', kubeconfig, ...args], { ...options, env: { KUBECACHEDIR: join(tmpdir(), 'k8ts-kubectl-cache') } });
}

/**
 * The set-up most API tests share: a store (one k8ts-store member unless `store` says otherwise)
 * with a leader, and one apiserver over it. If the apiserver does not come up, the store is stopped.
 */
export async function startApiOverStore(
  api: ApiServerProcessOptions = {},
  store: ClusterOptions & { readonly kind?: StoreKind } = { size: 1 },
): Promise<{ store: TestCluster; api: ApiServerProcess }> {
  const cluster = await TestCluster.start(store.kind ?? 'k8ts', store);
  try {
    await waitForLeader(cluster.endpoints);
    return { store: cluster, api: await ApiServerProcess.start(cluster.endpoints, api) };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
