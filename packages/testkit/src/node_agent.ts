import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from './cluster.js';
import { launchProcess, signalAndWait, waitHealthy } from './launcher.js';
import { tearDownNode } from '@k8ts/kubelet';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const NODE_AGENT_BINARY = join(repoRoot, 'node_modules', '.bin', 'k8ts-node-agent');

export interface NodeAgentOptions {
  /** --hostname-override: the Node's name. */
  readonly nodeName: string;
  /** --nats-url: the agent then answers logs and streams for its pods. */
  readonly natsUrl?: string;
  /** --root-dir; default: a fresh temporary folder, removed by `stop()`/`kill()` unless given. */
  readonly rootDir?: string;
  /** --node-ip; default 127.0.0.1 (tests run on loopback). */
  readonly nodeIp?: string;
  readonly extraArgs?: readonly string[];
  /** How long `start` waits for /healthz (default 30 s; a simulated fleet of thousands registers longer). */
  readonly startTimeoutMs?: number;
}

/**
 * One k8ts-node-agent process (a kubelet) on loopback, talking to API servers' gRPC addresses.
 * `start` resolves once its /healthz answers, that is once its Node is registered. `kill()` is a
 * crash (SIGKILL: its containers keep running, as a kubelet's do); `stop()` is SIGTERM; `launch()`
 * starts it again with the same flags and root dir (a restarted kubelet); `cleanUp()` removes a
 * temporary root dir.
 */
export class NodeAgentProcess {
  private process: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly nodeName: string,
    readonly rootDir: string,
    readonly healthUrl: string,
    /** The agent's --port server (/healthz, /metrics). */
    readonly serverUrl: string,
    private readonly args: readonly string[],
    private readonly ownsRootDir: boolean,
  ) {}

  static async start(apiserverGrpcAddresses: readonly string[], options: NodeAgentOptions): Promise<NodeAgentProcess> {
    const [healthzPort, port] = await freePorts(2);
    const ownsRootDir = options.rootDir === undefined;
    const rootDir = options.rootDir ?? mkdtempSync(join(tmpdir(), `node-agent-${options.nodeName}-`));
    const args = [
      '--master', apiserverGrpcAddresses.join(','),
      '--hostname-override', options.nodeName,
      '--node-ip', options.nodeIp ?? '127.0.0.1',
      '--root-dir', rootDir,
      '--healthz-bind-address', '127.0.0.1',
      '--healthz-port', String(healthzPort),
      '--address', '127.0.0.1',
      '--port', String(port),
      ...(options.natsUrl === undefined ? [] : ['--nats-url', options.natsUrl]),
      ...(options.extraArgs ?? []),
    ];
    const agent = new NodeAgentProcess(options.nodeName, rootDir, `http://127.0.0.1:${healthzPort}`, `http://127.0.0.1:${port}`, args, ownsRootDir);
    agent.launch();
    try {
      await agent.waitHealthy(options.startTimeoutMs);
    } catch (error) {
      await agent.cleanUp(); // the caller never gets a handle on it
      throw error;
    }
    return agent;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  launch(): void {
    this.process = launchProcess(NODE_AGENT_BINARY, this.args, { output: { into: this, limitChars: 100_000 } });
  }

  waitHealthy(timeoutMs = 30_000): Promise<void> {
    return waitHealthy(`${this.healthUrl}/healthz`, { timeoutMs, name: `k8ts-node-agent ${this.nodeName}`, process: this.process, log: () => this.log });
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

  /**
   * Takes the node away for good: stops the agent if it still runs, then the pods' processes it
   * left running (as a kubelet leaves them) and its pod network (tearDownNode), then removes the
   * root dir when it is a temporary one this kit made.
   */
  async cleanUp(): Promise<void> {
    await this.kill();
    await tearDownNode(this.rootDir);
    if (this.ownsRootDir) rmSync(this.rootDir, { recursive: true, force: true });
  }
}

/** A nats-server on a free loopback port (`url`), with its monitoring port's /healthz waited for. */
export class NatsServerProcess {
  private process: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly url: string,
    private readonly monitorUrl: string,
  ) {}

  static async start(): Promise<NatsServerProcess> {
    const [port, monitorPort] = await freePorts(2);
    const server = new NatsServerProcess(`nats://127.0.0.1:${port}`, `http://127.0.0.1:${monitorPort}`);
    server.process = launchProcess('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)], { output: { into: server, limitChars: 20_000 } });
    try {
      await waitHealthy(`${server.monitorUrl}/healthz`, { timeoutMs: 20_000, name: 'nats-server', process: server.process, log: () => server.log });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    this.process = undefined;
    await signalAndWait(child, signal);
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}
