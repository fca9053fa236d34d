import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePorts } from './cluster.js';
import { launchProcess, signalAndWait, waitHealthy } from './launcher.js';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const SCHEDULER_BINARY = join(repoRoot, 'node_modules', '.bin', 'k8ts-scheduler');
export const CONTROLLER_MANAGER_BINARY = join(repoRoot, 'node_modules', '.bin', 'k8ts-controller-manager');

/**
 * One control-plane component process (k8ts-scheduler, k8ts-controller-manager) on loopback,
 * talking to API servers' gRPC addresses (`--master`), with its health and metrics on a plain HTTP
 * port. `kill()` stops it hard (a crashed leader); `stop()` gently.
 */
export class ComponentProcess {
  private process: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly binary: string,
    readonly healthUrl: string,
    private readonly args: readonly string[],
  ) {}

  static async start(binary: string, apiserverGrpcAddresses: readonly string[], options: { extraArgs?: readonly string[] } = {}): Promise<ComponentProcess> {
    const [port] = await freePorts(1);
    const args = ['--master', apiserverGrpcAddresses.join(','), '--bind-address', '127.0.0.1', '--port', String(port), ...(options.extraArgs ?? [])];
    const component = new ComponentProcess(binary, `http://127.0.0.1:${port}`, args);
    component.launch();
    try {
      await component.waitHealthy();
    } catch (error) {
      await component.kill(); // the caller never gets a handle on it
      throw error;
    }
    return component;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  launch(): void {
    this.process = launchProcess(this.binary, this.args, { output: { into: this, limitChars: 50_000 } });
  }

  waitHealthy(timeoutMs = 20_000): Promise<void> {
    return waitHealthy(`${this.healthUrl}/healthz`, { timeoutMs, name: this.binary, process: this.process, log: () => this.log });
  }

  /** Stops it with `signal` (SIGKILL: a crash) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    this.process = undefined;
    await signalAndWait(child, signal);
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}

/** k8ts-scheduler processes. */
export const SchedulerProcess = {
  start: (apiserverGrpcAddresses: readonly string[], options: { extraArgs?: readonly string[] } = {}): Promise<ComponentProcess> =>
    ComponentProcess.start(SCHEDULER_BINARY, apiserverGrpcAddresses, options),
};
export type SchedulerProcess = ComponentProcess;

/** k8ts-controller-manager processes. */
export const ControllerManagerProcess = {
  start: (apiserverGrpcAddresses: readonly string[], options: { extraArgs?: readonly string[] } = {}): Promise<ComponentProcess> =>
    ComponentProcess.start(CONTROLLER_MANAGER_BINARY, apiserverGrpcAddresses, options),
};
export type ControllerManagerProcess = ComponentProcess;
