import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePorts } from './cluster.js';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const SCHEDULER_BINARY = join(repoRoot, 'node_modules', '.bin', 'k8ts-scheduler');

/**
 * One k8ts-scheduler process on loopback, talking to API servers' gRPC addresses, with its health
 * and metrics on a plain HTTP port. `kill()` stops it hard (a crashed leader); `stop()` gently.
 */
export class SchedulerProcess {
  private process: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly healthUrl: string,
    private readonly args: readonly string[],
  ) {}

  static async start(apiserverGrpcAddresses: readonly string[], options: { extraArgs?: readonly string[] } = {}): Promise<SchedulerProcess> {
    const [port] = await freePorts(1);
    const args = ['--master', apiserverGrpcAddresses.join(','), '--bind-address', '127.0.0.1', '--port', String(port), ...(options.extraArgs ?? [])];
    const scheduler = new SchedulerProcess(`http://127.0.0.1:${port}`, args);
    scheduler.launch();
    try {
      await scheduler.waitHealthy();
    } catch (error) {
      await scheduler.kill(); // the caller never gets a handle on it
      throw error;
    }
    return scheduler;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  launch(): void {
    const child = spawn(SCHEDULER_BINARY, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString()).slice(-50_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.process = child;
  }

  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const response = await fetch(`${this.healthUrl}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`scheduler at ${this.healthUrl} not healthy within ${timeoutMs} ms:\n${this.log}`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  /** Stops it with `signal` (SIGKILL: a crash) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill(signal);
      await exited;
    }
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}
