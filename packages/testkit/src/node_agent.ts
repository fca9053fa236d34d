import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePorts } from './cluster.js';
import { launchProcess, signalAndWait, waitHealthy } from './launcher.js';
import type { NodeHost } from './node_hosts.js';
import { runCommand } from './run.js';
import { tearDownNode } from '@k8ts/kubelet';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const NODE_AGENT_BINARY = join(repoRoot, 'node_modules', '.bin', 'k8ts-node-agent');
/** @k8ts/kubelet's entry point, for the teardown run inside a node host (a path: its own process imports it). */
const KUBELET_ENTRY = join(repoRoot, 'packages', 'kubelet', 'dist', 'index.js');

export interface NodeAgentOptions {
  /** --hostname-override: the Node's name. */
  readonly nodeName: string;
  /** --nats-url: the agent then answers logs and streams for its pods. */
  readonly natsUrl?: string;
  /** --root-dir; default: a fresh temporary folder, removed by `stop()`/`kill()` unless given. */
  readonly rootDir?: string;
  /** --node-ip; default the host's ip with `host`, else 127.0.0.1 (tests run on loopback). */
  readonly nodeIp?: string;
  /**
   * Runs the agent inside this node host's network namespace (NodeHostNetwork; `enterWithCgroups`,
   * so its containers still get cgroups), serving /healthz and its server on the host's ip. The API server and NATS addresses it is given must then be reachable
   * from inside: the network's gateway address, not 127.0.0.1 (ApiServerProcess's and
   * NatsServerProcess's bindAddress/host options).
   */
  readonly host?: NodeHost;
  readonly extraArgs?: readonly string[];
  /** How long `start` waits for /healthz (default 30 s; a simulated fleet of thousands registers longer). */
  readonly startTimeoutMs?: number;
}

/**
 * One k8ts-node-agent process (a kubelet) on loopback or inside a node host, talking to API servers'
 * gRPC addresses.
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
    /** The node host it runs in, if any. */
    readonly host: NodeHost | undefined,
  ) {}

  static async start(apiserverGrpcAddresses: readonly string[], options: NodeAgentOptions): Promise<NodeAgentProcess> {
    const [healthzPort, port] = await freePorts(2);
    const ownsRootDir = options.rootDir === undefined;
    const rootDir = options.rootDir ?? mkdtempSync(join(tmpdir(), `node-agent-${options.nodeName}-`));
    // Inside a node host its servers listen on the host's ip: this namespace's 127.0.0.1 is not theirs.
    const serverIp = options.host?.ip ?? '127.0.0.1';
    const args = [
      '--master', apiserverGrpcAddresses.join(','),
      '--hostname-override', options.nodeName,
      '--node-ip', options.nodeIp ?? serverIp,
      '--root-dir', rootDir,
      '--healthz-bind-address', serverIp,
      '--healthz-port', String(healthzPort),
      '--address', serverIp,
      '--port', String(port),
      ...(options.natsUrl === undefined ? [] : ['--nats-url', options.natsUrl]),
      ...(options.extraArgs ?? []),
    ];
    const agent = new NodeAgentProcess(options.nodeName, rootDir, `http://${serverIp}:${healthzPort}`, `http://${serverIp}:${port}`, args, ownsRootDir, options.host);
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
    const [binary, ...args] = [...(this.host?.enterWithCgroups ?? []), NODE_AGENT_BINARY, ...this.args] as [string, ...string[]];
    this.process = launchProcess(binary, args, { output: { into: this, limitChars: 100_000 } });
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
   * left running (as a kubelet leaves them) and its pod network (tearDownNode; inside its node host
   * when it has one, where its pod bridge and rules are), then removes the root dir when it is a
   * temporary one this kit made.
   */
  async cleanUp(): Promise<void> {
    await this.kill();
    if (this.host === undefined) await tearDownNode(this.rootDir);
    else await tearDownNodeIn(this.host, this.rootDir);
    if (this.ownsRootDir) rmSync(this.rootDir, { recursive: true, force: true });
  }
}

/**
 * tearDownNode run by a node process inside `host` (its network namespace is where the agent made its
 * pod bridge, routes and rules; a same-named bridge out here is another agent's). The host's
 * namespace must still exist.
 */
export async function tearDownNodeIn(host: NodeHost, rootDir: string): Promise<void> {
  const script = `const { tearDownNode } = await import(${JSON.stringify(pathToFileURL(KUBELET_ENTRY).href)}); await tearDownNode(${JSON.stringify(rootDir)});`;
  const [command, ...prefix] = host.enterWithCgroups as [string, ...string[]];
  const result = await runCommand(command, [...prefix, process.execPath, '--input-type=module', '-e', script], { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`tearDownNode in node host ${host.name} failed (${result.code}): ${result.stderr.trim()}`);
}

/**
 * A nats-server on a free port of `host` (default 127.0.0.1; a node host network's gateway, or
 * 0.0.0.0, lets agents in node hosts reach it) as `url`, with its monitoring port's /healthz waited for.
 */
export class NatsServerProcess {
  private process: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly url: string,
    private readonly monitorUrl: string,
  ) {}

  static async start(options: { host?: string } = {}): Promise<NatsServerProcess> {
    const [port, monitorPort] = await freePorts(2);
    const bindAddress = options.host ?? '127.0.0.1';
    const host = bindAddress === '0.0.0.0' ? '127.0.0.1' : bindAddress;
    const server = new NatsServerProcess(`nats://${host}:${port}`, `http://${host}:${monitorPort}`);
    // The monitoring port listens on -a's address too (nats-server's http_host defaults to its host).
    const args = ['-a', bindAddress, '-p', String(port), '-m', String(monitorPort)];
    server.process = launchProcess('nats-server', args, { output: { into: server, limitChars: 20_000 } });
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
