import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubectl, pidAlive, runCommand, type CommandResult } from '@k8ts/testkit';
import { freeBasePort } from './cluster_ports.js';
import { afterAll, describe, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * `k8ts up --nodes 2 --simulated-nodes 3` as a user runs it: nats-server, two process-runtime node
 * agents and one agent of three simulated nodes come up with the control plane, `up` returns once
 * every node is Ready, kubectl runs a pod on a real node and reads its logs (through NATS), `status`
 * shows the nodes' readiness, and `down` stops everything — the pod's processes too.
 */

const K8TS = resolve(new URL('../../node_modules/.bin/k8ts', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'k8ts-nodes-'));

function k8ts(args: string[], timeoutMs = 120_000): Promise<CommandResult> {
  return runCommand(K8TS, [...args, '--dir', dir], { timeoutMs });
}


interface ClusterState {
  processes: { name: string; pid: number; log: string }[];
  kubeconfig: string;
}
const state = (): ClusterState => JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterState;

/** Processes whose command line names a container shim under this cluster's folder (the pods' processes). */
function containerShims(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`${dir}/nodes/`);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter((pid) => !state().processes.some((p) => p.pid === pid));
}

afterAll(async () => {
  await k8ts(['down', '--purge']);
  rmSync(dir, { recursive: true, force: true });
});

describe('k8ts up with nodes', () => {
  test('nodes come up Ready, run a pod kubectl can read, show in status, and go down with their pods', async () => {
    const base = await freeBasePort({ nodes: 2, simulatedNodes: 3 });
    const up = await k8ts(['up', '--nodes', '2', '--simulated-nodes', '3', '--base-port', String(base)], 180_000);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toContain('2 nodes and 3 simulated nodes in one agent, all Ready');
    const names = state().processes.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['nats-server', 'node-1', 'node-2', 'simulated-nodes']));
    const kubeconfig = state().kubeconfig;
    // Each agent runs where its node is: in its node host as root (with the host's address), else on a loopback address of its own.
    const recorded = state() as unknown as { processes: { name: string; command?: string[] }[]; nodeHosts?: Record<string, { ip: string }> };
    for (const [index, name] of ['node-1', 'node-2'].entries()) {
      const command = recorded.processes.find((p) => p.name === name)?.command ?? [];
      expect(command[command.indexOf('--node-ip') + 1], name).toBe(recorded.nodeHosts?.[name]?.ip ?? `127.0.1.${index + 1}`);
    }

    const nodes = await kubectl(kubeconfig, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}']);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout.trim().split(' ').sort()).toEqual(['node-1=True', 'node-2=True', 'sim-0=True', 'sim-1=True', 'sim-2=True']);

    // A pod on a real node: its process runs, and its log comes back through the API server (NATS).
    const overrides = JSON.stringify({ spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-2' }, terminationGracePeriodSeconds: 1 } });
    const run = await kubectl(kubeconfig, ['run', 'hello', '--image=busybox', `--overrides=${overrides}`, '--', 'sh', '-c', 'echo hello from node-2; sleep 3600']);
    expect(run.code, run.stderr).toBe(0);
    await eventually(async () => (await kubectl(kubeconfig, ['get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 60_000, 'the pod Running');
    await eventually(async () => (await kubectl(kubeconfig, ['logs', 'hello'])).stdout.includes('hello from node-2'), 30_000, 'its log through kubectl');
    expect(containerShims().length).toBeGreaterThan(0);

    const status = await k8ts(['status']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^node node-1 +Ready$/m);
    expect(status.stdout).toContain('simulated nodes sim-*: 3 of 3 Ready');
    expect(status.stdout).toContain('nodes: 5 of 5 Ready');

    const pids = state().processes.map((p) => p.pid);
    const down = await k8ts(['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(containerShims()).toEqual([]);
    const links = await runCommand('ip', ['-o', 'link', 'show'], { timeoutMs: 10_000 });
    expect(links.stdout).not.toContain(`k8b${base}n`); // the nodes' pod bridges
  });
});
