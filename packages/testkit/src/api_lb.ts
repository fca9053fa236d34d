import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubeconfigFor, kubectl } from './apiserver.js';
import { freePorts } from './cluster.js';
import { launchProcess, signalAndWait, waitHealthy } from './launcher.js';
import type { CommandResult } from './run.js';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const API_LB_BINARY = join(repoRoot, 'node_modules', '.bin', 'k8ts-api-lb');

export interface ApiLoadBalancerProcessOptions {
  /** More flags (--health-interval 200ms, --health-failure-threshold 2, …). */
  readonly extraArgs?: readonly string[];
}

/**
 * One k8ts-api-lb process on 127.0.0.1 in front of API servers' HTTP addresses (host:port), with
 * a kubeconfig that points kubectl at it and its /healthz and /metrics on a port of their own.
 * `kill()` stops it hard; `stop()` gently.
 */
export class ApiLoadBalancerProcess {
  private process: ChildProcess | undefined;
  log = '';

  private constructor(
    /** Where clients connect: http://127.0.0.1:<port>. */
    readonly url: string,
    /** /healthz and /metrics: http://127.0.0.1:<healthz port>. */
    readonly healthUrl: string,
    readonly kubeconfig: string,
    private readonly args: readonly string[],
    private readonly dir: string,
  ) {}

  static async start(backends: readonly string[], options: ApiLoadBalancerProcessOptions = {}): Promise<ApiLoadBalancerProcess> {
    const [port, healthzPort] = await freePorts(2);
    const dir = mkdtempSync(join(tmpdir(), 'api-lb-'));
    const url = `http://127.0.0.1:${port}`;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(url));
    const args = ['--bind-address', '127.0.0.1', '--port', String(port), '--healthz-port', String(healthzPort), '--backends', backends.join(','), ...(options.extraArgs ?? [])];
    const lb = new ApiLoadBalancerProcess(url, `http://127.0.0.1:${healthzPort}`, kubeconfig, args, dir);
    lb.launch();
    try {
      await lb.waitHealthy();
    } catch (error) {
      await lb.stop(); // the caller never gets a handle on it
      throw error;
    }
    return lb;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  launch(): void {
    this.process = launchProcess(API_LB_BINARY, this.args, { output: { into: this, limitChars: 50_000 } });
  }

  waitHealthy(timeoutMs = 20_000): Promise<void> {
    return waitHealthy(`${this.healthUrl}/healthz`, { timeoutMs, name: 'k8ts-api-lb', process: this.process, log: () => this.log });
  }

  /** Its /metrics, as Prometheus text. */
  async metrics(): Promise<string> {
    const response = await fetch(`${this.healthUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`k8ts-api-lb /metrics answered ${response.status}`);
    return response.text();
  }

  /** Runs the real kubectl through the load balancer. */
  kubectl(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    return kubectl(this.kubeconfig, args, options);
  }

  /**
   * Stops it with `signal` (SIGKILL: a crash) and waits for the exit; resolves with its exit code
   * (null when the signal ended it, or it was not running). `launch()` starts it again.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.process;
    this.process = undefined;
    await signalAndWait(child, signal);
    return child?.exitCode ?? null;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
