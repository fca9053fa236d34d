/**
 * `k8ts status`: each process (pid, up or down, CPU and RSS), the store (leader, term, each member's
 * commit index and a follower's lag), which scheduler and controller manager lead, each node's
 * readiness. Collected as lines so `logs --bundle` packs the same text.
 */
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pidAlive } from '@k8ts/testkit';
import { formatNodes, readNodes } from './cluster_nodes.js';
import { readState, type ClusterState } from './cluster_state.js';
import { formatLeaderReport, leaderReports, type ElectingProcess } from './leaders.js';
import { formatMiB, startUsageWindow, type ProcessUsage } from './process_usage.js';
import { formatStore, readStore } from './store_status.js';

/** The window CPU% is measured over. */
const CPU_WINDOW_MS = 1_000;

export interface StatusReport {
  readonly lines: readonly string[];
  /** Every process up and every node Ready. */
  readonly healthy: boolean;
}

export function formatProcessTable(state: ClusterState, usage: ReadonlyMap<number, ProcessUsage>, alive: (pid: number) => boolean): string[] {
  const lines = [`${'PART'.padEnd(22)} ${'PID'.padEnd(8)} ${'STATE'.padEnd(5)} ${'CPU%'.padStart(6)} ${'RSS'.padStart(10)}  LOG`];
  for (const p of state.processes) {
    const up = alive(p.pid);
    const use = usage.get(p.pid);
    const cpu = up && use?.cpuPercent !== undefined ? use.cpuPercent.toFixed(1) : '-';
    const rss = up ? formatMiB(use?.rssBytes) : '-';
    lines.push(`${p.name.padEnd(22)} ${String(p.pid).padEnd(8)} ${(up ? 'up' : 'down').padEnd(5)} ${cpu.padStart(6)} ${rss.padStart(10)}  ${p.log}`);
  }
  return lines;
}

async function nodeLines(state: ClusterState): Promise<{ lines: string[]; ready: boolean }> {
  const processNodes = state.nodes ?? [];
  const simulatedNodes = state.simulatedNodes ?? [];
  const apiserver = state.apiservers[0];
  if (apiserver === undefined || processNodes.length + simulatedNodes.length === 0) return { lines: [], ready: true };
  try {
    const nodes = await readNodes(apiserver);
    return { lines: formatNodes(nodes, processNodes, simulatedNodes), ready: [...processNodes, ...simulatedNodes].every((name) => nodes.get(name)?.ready === 'True') };
  } catch (error) {
    return { lines: [`nodes: not readable (${(error as Error).message})`], ready: false };
  }
}

async function leaderLines(state: ClusterState): Promise<string[]> {
  const electing = state.processes.flatMap((p): ElectingProcess[] =>
    p.healthUrl !== undefined && p.lease !== undefined && pidAlive(p.pid) ? [{ name: p.name, healthUrl: p.healthUrl, lease: p.lease }] : [],
  );
  const apiserver = state.apiservers[0];
  if (apiserver === undefined || electing.length === 0) return [];
  return (await leaderReports(apiserver, electing)).map(formatLeaderReport);
}

async function storeLines(state: ClusterState): Promise<string[]> {
  const members = state.processes.flatMap((p) => (p.clientUrl === undefined ? [] : [{ name: p.name, endpoint: new URL(p.clientUrl).host }]));
  return members.length === 0 ? [] : formatStore(await readStore(members));
}

/** The status of the cluster in `dir`, or undefined when there is no cluster state there. */
export async function collectStatus(dir: string): Promise<StatusReport | undefined> {
  const state = readState(dir);
  if (state === undefined) return undefined;
  const endWindow = startUsageWindow(state.processes.map((p) => p.pid));
  const [store, leaders, nodes] = await Promise.all([storeLines(state), leaderLines(state), nodeLines(state), delay(CPU_WINDOW_MS)]);
  const lines = formatProcessTable(state, endWindow(), pidAlive);
  lines.push(...store, ...leaders);
  if (state.nodeNetwork !== undefined) {
    const hosts = [...Object.values(state.nodeHosts ?? {}), ...Object.values(state.storeHosts ?? {})].map((host) => `${host.name} ${host.ip} (ip netns exec ${host.netns})`);
    lines.push(`node network: bridge ${state.nodeNetwork.name} ${state.nodeNetwork.subnet}; ${hosts.join(', ')}`);
  }
  lines.push(...nodes.lines, `kubeconfig: ${state.kubeconfig}`);
  return { lines, healthy: nodes.ready && state.processes.every((p) => pidAlive(p.pid)) };
}

export async function status(options: { dir: string }): Promise<void> {
  const dir = resolve(options.dir);
  const report = await collectStatus(dir);
  if (report === undefined) {
    console.log(`no cluster state in ${dir}`);
    process.exitCode = 1;
    return;
  }
  console.log(report.lines.join('\n'));
  if (!report.healthy) process.exitCode = 1;
}
