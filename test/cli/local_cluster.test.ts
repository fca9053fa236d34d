import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubectl, pidAlive, runCommand, type CommandResult } from '@k8ts/testkit';
import { afterAll, describe, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * `k8ts up | status | down` as a user runs them: the real binary starts the local cluster's control
 * plane (nats-server, three store members, two API servers, two schedulers, two controller managers;
 * `--nodes 0`: local_cluster_nodes.test.ts covers the nodes), the real kubectl talks to it through
 * the kubeconfig it wrote, `status` names the leading replicas, `down` stops it all.
 */

const K8TS = resolve(new URL('../../node_modules/.bin/k8ts', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'k8ts-local-'));

function k8ts(args: string[]): Promise<CommandResult> {
  return runCommand(K8TS, [...args, '--dir', dir], { timeoutMs: 60_000 });
}

/** The ports `k8ts up --base-port B --nodes 0` uses (see its --help). */
const OFFSETS = [1, 2, 3, 11, 12, 13, 21, 22, 31, 32, 41, 42, 51, 52, 60, 61];

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** A base port below Linux's ephemeral range (so freePorts() of other suites never hands these out) with every port free. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 100 * Math.floor(Math.random() * 100);
    if ((await Promise.all(OFFSETS.map((offset) => portFree(base + offset)))).every(Boolean)) return base;
  }
  throw new Error('no free base port found');
}

interface ClusterState {
  processes: { name: string; pid: number; log: string }[];
  kubeconfig: string;
}
const state = (): ClusterState => JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterState;

let pids: number[] = [];
afterAll(async () => {
  await k8ts(['down', '--purge']);
  rmSync(dir, { recursive: true, force: true });
});

describe('k8ts up, status and down', () => {
  test('a local cluster comes up, serves kubectl, reports its leaders and goes down', async () => {
    const up = await k8ts(['up', '--nodes', '0', '--base-port', String(await freeBasePort())]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('2 schedulers, 2 controller managers');
    pids = state().processes.map((p) => p.pid);
    expect(state().processes.map((p) => p.name)).toEqual([
      'nats-server', 'store-1', 'store-2', 'store-3', 'apiserver-1', 'apiserver-2',
      'scheduler-1', 'scheduler-2', 'controller-manager-1', 'controller-manager-2',
    ]);

    const namespaces = await kubectl(state().kubeconfig, ['get', 'namespaces', '-o', 'name']);
    expect(namespaces.stdout.split('\n')).toContain('namespace/kube-system');

    // Each Lease is taken within a retry period of the replicas starting; until then status says no one leads.
    const leaders = new Map<string, { name: string; holder: string }>();
    await eventually(
      async () => {
        const status = await k8ts(['status']);
        expect(status.code, status.stdout + status.stderr).toBe(0);
        for (const lease of ['kube-scheduler', 'kube-controller-manager']) {
          const line = new RegExp(`^${lease}: +(\\S+) leads \\(Lease kube-system/${lease}: holderIdentity (\\S+)\\)$`, 'm').exec(status.stdout);
          if (line) leaders.set(lease, { name: line[1] ?? '', holder: line[2] ?? '' });
        }
        return leaders.size === 2;
      },
      30_000,
      'both leaders named by k8ts status',
    );
    // The replica whose /metrics says it leads is the one the Lease names (each logs its identity).
    for (const [lease, leader] of leaders) {
      expect(leader.name, lease).toMatch(lease === 'kube-scheduler' ? /^scheduler-[12]$/ : /^controller-manager-[12]$/);
      const log = readFileSync(state().processes.find((p) => p.name === leader.name)?.log ?? '', 'utf8');
      expect(log, `${leader.name}'s log`).toContain(`"identity":"${leader.holder}"`);
    }

    const down = await k8ts(['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(pids.filter(pidAlive)).toEqual([]);
    const after = await k8ts(['status']);
    expect([after.code, after.stdout.trim()]).toEqual([1, `no cluster state in ${dir}`]);
  });
});
