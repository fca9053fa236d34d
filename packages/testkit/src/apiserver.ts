import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from './cluster.js';
import { launchProcess, signalAndWait, waitHealthy } from './launcher.js';
import { runCommand, type CommandResult } from './run.js';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const APISERVER_BINARY = join(repoRoot, 'node_modules', '.bin', 'k8ts-apiserver');

/** One k8ts-apiserver process on loopback (plain HTTP via --port), over the given store endpoints. */
export class ApiServerProcess {
  private process: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly url: string,
    readonly kubeconfig: string,
    private readonly args: readonly string[],
    private readonly dir: string,
  ) {}

  static async start(etcdServers: readonly string[], options: { extraArgs?: readonly string[] } = {}): Promise<ApiServerProcess> {
    const [port] = await freePorts(1);
    const dir = mkdtempSync(join(tmpdir(), 'apiserver-'));
    const url = `http://127.0.0.1:${port}`;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(url));
    const args = ['--etcd-servers', etcdServers.join(','), '--bind-address', '127.0.0.1', '--port', String(port), '--secure-port', '0', ...(options.extraArgs ?? [])];
    const server = new ApiServerProcess(url, kubeconfig, args, dir);
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

  waitReady(timeoutMs = 20_000): Promise<void> {
    return waitHealthy(`${this.url}/readyz`, { timeoutMs, name: 'apiserver', process: this.process, log: () => this.log });
  }

  /** Runs the real kubectl against this server. */
  kubectl(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    return kubectl(this.kubeconfig, args, options);
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    await signalAndWait(child, 'SIGTERM');
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
