/**
 * The local cluster's files in its folder: `cluster.json`, the state of a running cluster (which
 * processes, their pids, logs and command lines; written as each part starts, removed by `down`),
 * and `settings.json`, what `up` was asked for (kept by `down`, so `up` resumes the same cluster).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeHost } from '@k8ts/testkit';

export interface ClusterProcess {
  name: string;
  pid: number;
  log: string;
  /** The argv it was started with (a node host's `enter` prefix first): a restart runs it again. */
  command?: string[];
  /** /healthz and /metrics of a scheduler or controller manager. */
  healthUrl?: string;
  /** The Lease (kube-system) it campaigns for. */
  lease?: string;
  /** A node agent's --root-dir (its pods' processes are found there when it is gone). */
  rootDir?: string;
  /** A store member's etcd v3 client URL. */
  clientUrl?: string;
}

export interface ClusterState {
  processes: ClusterProcess[];
  /** As root: the node hosts' network (a bridge here) and each process node's host. */
  nodeNetwork?: { name: string; subnet: string; gateway: string };
  nodeHosts?: Record<string, NodeHost>;
  /** As root, with node hosts: each store member's host on the same network (store-1..3), for link faults between them. */
  storeHosts?: Record<string, NodeHost>;
  apiservers: string[];
  kubeconfig: string;
  /** The Nodes of process-runtime agents, and how many simulated ones (absent in older state files). */
  nodes?: string[];
  simulatedNodes?: string[];
}

/** What `up` was asked for: a resumed cluster must keep its ports (the store's members know each other by them). */
export interface ClusterSettings {
  basePort: number;
  nodes: number;
  simulatedNodes: number;
}

/** settings.json: the settings, and what `up` decided when it made the cluster. */
export interface SavedSettings extends ClusterSettings {
  /**
   * The store members run in hosts of their own (kept on resume: a member's id derives from its
   * peer URL, so its address is part of its identity in the data). Absent (older folders): not.
   */
  storeHosts?: boolean;
}

export function stateFile(dir: string): string {
  return join(dir, 'cluster.json');
}

export function settingsFile(dir: string): string {
  return join(dir, 'settings.json');
}

export function logsDir(dir: string): string {
  return join(dir, 'logs');
}

export function readState(dir: string): ClusterState | undefined {
  return existsSync(stateFile(dir)) ? (JSON.parse(readFileSync(stateFile(dir), 'utf8')) as ClusterState) : undefined;
}

export function writeState(dir: string, state: ClusterState): void {
  writeFileSync(stateFile(dir), JSON.stringify(state, null, 2));
}

export function readSettings(dir: string): SavedSettings | undefined {
  return existsSync(settingsFile(dir)) ? (JSON.parse(readFileSync(settingsFile(dir), 'utf8')) as SavedSettings) : undefined;
}

export function writeSettings(dir: string, settings: SavedSettings): void {
  writeFileSync(settingsFile(dir), `${JSON.stringify(settings, null, 2)}\n`);
}

/**
 * The settings a resumed cluster runs with: the saved ones, where a flag the user did not give
 * falls back to them; a flag given that differs is refused (the store's data names its ports).
 */
export function resumedSettings(saved: ClusterSettings | undefined, asked: ClusterSettings, given: ReadonlySet<keyof ClusterSettings>): ClusterSettings {
  if (saved === undefined) return asked;
  const flags: Record<keyof ClusterSettings, string> = { basePort: '--base-port', nodes: '--nodes', simulatedNodes: '--simulated-nodes' };
  const resumed = { ...saved };
  for (const key of Object.keys(flags) as (keyof ClusterSettings)[]) {
    if (given.has(key) && asked[key] !== saved[key]) {
      throw new Error(`${flags[key]} ${asked[key]}: this folder holds a cluster made with ${flags[key]} ${saved[key]} (k8ts down --purge to start afresh)`);
    }
  }
  return resumed;
}

/**
 * Whether the store members run in hosts of their own: a new cluster's when its nodes do (as root);
 * a resumed one (`saved`: the settings of a folder with data) keeps what it was made with — a
 * member's id derives from its peer URL, so its address — older folders' members are on loopback.
 */
export function storeHostsFor(saved: SavedSettings | undefined, hosted: boolean): boolean {
  if (saved === undefined) return hosted;
  if (saved.storeHosts === true && !hosted) throw new Error('this cluster\'s store members run in network namespaces of their own: resume it as root (or k8ts down --purge to start afresh)');
  return saved.storeHosts ?? false;
}
