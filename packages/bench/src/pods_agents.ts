/**
 * The node agents a pods benchmark runs on, started through the test kit's NodeAgentProcess: one
 * k8ts-node-agent of N simulated nodes, or N process-runtime agents (each its own bridge, as agents
 * sharing a network namespace must). Their CPU and memory are read from Linux /proc: CPU as a
 * share of one core over a window, RSS sampled (the peak is kept).
 */
import { readFileSync } from 'node:fs';
import { NodeAgentProcess } from '@k8ts/testkit';
import { processCpuMs } from './cpu.js';
import type { PodsBenchRuntime } from './pods_options.js';

/** The simulated fleet's node names are <prefix>-<index>. */
export const SIMULATED_NODE_PREFIX = 'sim';

/** A simulated fleet registers every node before /healthz answers: a minute, plus 50 ms a node. */
export function fleetStartTimeoutMs(nodes: number): number {
  return 60_000 + 50 * nodes;
}

export interface StartedAgents {
  readonly agents: readonly NodeAgentProcess[];
  readonly nodeNames: readonly string[];
  readonly args: readonly string[];
}

export async function startAgents(runtime: PodsBenchRuntime, nodes: number, grpcAddresses: readonly string[]): Promise<StartedAgents> {
  if (runtime === 'simulated') {
    const args = [
      '--runtime', 'simulated',
      '--nodes', String(nodes),
      '--simulated-node-prefix', SIMULATED_NODE_PREFIX,
      // One client for the whole fleet: a kubelet's 50 QPS would throttle thousands of nodes.
      '--kube-api-qps', '100000',
      '--kube-api-burst', '100000',
      '--log-level', 'warn',
    ];
    const agent = await NodeAgentProcess.start(grpcAddresses, { nodeName: SIMULATED_NODE_PREFIX, extraArgs: args, startTimeoutMs: fleetStartTimeoutMs(nodes) });
    const width = String(nodes - 1).length;
    const names = Array.from({ length: nodes }, (_, index) => `${SIMULATED_NODE_PREFIX}-${String(index).padStart(width, '0')}`);
    return { agents: [agent], nodeNames: names, args };
  }
  const agents: NodeAgentProcess[] = [];
  const names = Array.from({ length: nodes }, (_, index) => `node-${index + 1}`);
  const args = ['--log-level', 'warn'];
  try {
    for (const [index, name] of names.entries()) {
      // A bridge of its own per agent, named after this run (≤ 15 characters) so that runs side by side never share one.
      agents.push(await NodeAgentProcess.start(grpcAddresses, { nodeName: name, extraArgs: [...args, '--pod-bridge', `kb${process.pid}n${index + 1}`] }));
    }
  } catch (error) {
    await stopAgents(agents);
    throw error;
  }
  return { agents, nodeNames: names, args: [...args, '--pod-bridge', `kb${process.pid}n<i>`] };
}

/** Stops the agents, then what they leave on the machine (their pods' processes and network) and their root dirs. */
export async function stopAgents(agents: readonly NodeAgentProcess[]): Promise<void> {
  await Promise.all(
    agents.map(async (agent) => {
      await agent.stop();
      await agent.cleanUp();
    }),
  );
}

/** VmRSS of a process in bytes (Linux /proc); undefined when it is gone or unreadable. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export interface AgentUsage {
  readonly processes: number;
  /** CPU of all agents together over the window, % of one core. */
  readonly cpuPercent: number;
  /** RSS of all agents together: at the end of the window, and the highest sample. */
  readonly rssBytes: number;
  readonly peakRssBytes: number;
}

/** Samples the agents' RSS every second from `start()` until `stop()`, and their CPU over that window. */
export class AgentSampler {
  private cpuStartMs = 0;
  private wallStartMs = 0;
  private peakRssBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: readonly number[]) {}

  start(): void {
    this.cpuStartMs = this.cpuMs();
    this.wallStartMs = performance.now();
    this.peakRssBytes = this.rssBytes();
    this.timer = setInterval(() => (this.peakRssBytes = Math.max(this.peakRssBytes, this.rssBytes())), 1000);
    this.timer.unref();
  }

  stop(): AgentUsage {
    clearInterval(this.timer);
    const rss = this.rssBytes();
    const wallMs = performance.now() - this.wallStartMs;
    const cpuMs = this.cpuMs() - this.cpuStartMs;
    return {
      processes: this.pids.length,
      cpuPercent: wallMs > 0 ? Math.round((cpuMs / wallMs) * 1000) / 10 : 0,
      rssBytes: rss,
      peakRssBytes: Math.max(this.peakRssBytes, rss),
    };
  }

  private cpuMs(): number {
    return this.pids.reduce((total, pid) => total + (processCpuMs(pid) ?? 0), 0);
  }

  private rssBytes(): number {
    return this.pids.reduce((total, pid) => total + (processRssBytes(pid) ?? 0), 0);
  }
}
