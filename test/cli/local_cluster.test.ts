import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubectl, pidAlive, runCommand, type CommandResult } from '@k8ts/testkit';
import { freeBasePort } from './cluster_ports.js';
import { afterAll, describe, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * `k8ts up | status | down` as a user runs them: the real binary starts the local cluster's control
 * plane (nats-server, three store members, two API servers, two schedulers, two controller managers;
 * `--nodes 0`: local_cluster_nodes.test.ts covers the nodes), the real kubectl talks to it through
 * the kubeconfig it wrote, `status` names the leading replicas and the store's leader and shows each
 * process's CPU and RSS, `logs` prints and bundles the parts' logs, `down` stops it all and `up`
 * resumes it from its data. The tests run in order on one cluster.
 */

const K8TS = resolve(new URL('../../node_modules/.bin/k8ts', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'k8ts-local-'));

function k8ts(args: string[]): Promise<CommandResult> {
  return runCommand(K8TS, [...args, '--dir', dir], { timeoutMs: 60_000 });
}


interface ClusterState {
  processes: { name: string; pid: number; log: string }[];
  kubeconfig: string;
}
const state = (): ClusterState => JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterState;

let pids: number[] = [];
let basePort = 0;
afterAll(async () => {
  await k8ts(['down', '--purge']);
  rmSync(dir, { recursive: true, force: true });
});

describe('k8ts up, status, logs and down', () => {
  test('a local cluster comes up, serves kubectl and reports its leaders', async () => {
    basePort = await freeBasePort({ nodes: 0 });
    const up = await k8ts(['up', '--nodes', '0', '--base-port', String(basePort)]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('2 schedulers, 2 controller managers');
    pids = state().processes.map((p) => p.pid);
    expect(state().processes.map((p) => p.name)).toEqual([
      'nats-server', 'store-1', 'store-2', 'store-3', 'apiserver-1', 'apiserver-2', 'api-lb',
      'scheduler-1', 'scheduler-2', 'controller-manager-1', 'controller-manager-2',
    ]);
    // kubectl goes through the API load balancer.
    expect(readFileSync(state().kubeconfig, 'utf8')).toContain(`server: http://127.0.0.1:${basePort + 20}`);

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

  });

  test('status shows each process with its CPU and RSS, and the store with its leader, term and followers\' lag', async () => {
    const status = await k8ts(['status']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^PART +PID +STATE +CPU% +RSS +LOG$/m);
    for (const p of state().processes) {
      expect(status.stdout).toMatch(new RegExp(`^${p.name} +${p.pid} +up +\\d+\\.\\d +\\d+\\.\\d MiB  ${p.log}$`, 'm'));
    }
    const leader = /^store: leader (store-[123]), term (\d+)$/m.exec(status.stdout);
    expect(leader, status.stdout).not.toBeNull();
    const members = [...status.stdout.matchAll(/^ {2}(store-[123]) +(leader|follower) +term (\d+) +commit (\d+) +applied (\d+)(?: +lag (\d+))?$/gm)];
    expect(members.map((m) => [m[1], m[2]]).sort()).toEqual(
      ['store-1', 'store-2', 'store-3'].map((name) => [name, name === leader?.[1] ? 'leader' : 'follower']),
    );
    for (const m of members) {
      expect(Number(m[4]), m[0]).toBeGreaterThan(0);
      expect(m[6] === undefined, m[0]).toBe(m[2] === 'leader'); // a lag for each follower, none for the leader
    }
  });

  test('logs lists the parts, prints one, follows one, and refuses a part that is not there', async () => {
    const list = await k8ts(['logs']);
    expect(list.code, list.stderr).toBe(0);
    for (const p of state().processes) expect(list.stdout).toMatch(new RegExp(`^${p.name} +\\d+\\.\\d KiB  ${p.log}$`, 'm'));

    const storeLog = state().processes.find((p) => p.name === 'store-1')?.log ?? '';
    const firstLine = readFileSync(storeLog, 'utf8').split('\n')[0] ?? '';
    expect(firstLine).not.toBe('');
    const one = await k8ts(['logs', 'store-1']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.startsWith(firstLine)).toBe(true);

    const missing = await k8ts(['logs', 'store-9']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no part named "store-9"');

    // -f prints what is appended after it started, until stopped.
    const follower = spawn(K8TS, ['logs', 'nats-server', '-f', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
    try {
      const natsLog = state().processes.find((p) => p.name === 'nats-server')?.log ?? '';
      await eventually(() => followed.length > 0, 10_000, 'the log printed');
      appendFileSync(natsLog, 'a line appended while following\n');
      await eventually(() => followed.includes('a line appended while following'), 10_000, 'the appended line followed');
    } finally {
      follower.kill('SIGINT');
    }
  });

  test('logs --bundle packs every log, the status and the state file into a .tar.gz', async () => {
    const bundle = join(dir, 'bundle.tar.gz');
    const made = await k8ts(['logs', '--bundle', bundle]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(new RegExp(`^wrote ${bundle} \\(11 logs, status, state; `));
    const listing = await runCommand('tar', ['-tzf', bundle]);
    const files = listing.stdout.trim().split('\n').map((line) => line.replace(/^k8ts-bundle-[^/]+\//, ''));
    expect(files).toEqual(expect.arrayContaining(['status.txt', 'cluster.json', 'settings.json', ...state().processes.map((p) => `logs/${p.name}.log`)]));
    const statusText = await runCommand('tar', ['-xzOf', bundle, '--wildcards', '*/status.txt']);
    expect(statusText.stdout).toMatch(/^store: leader store-[123], term \d+$/m);
  });

  test('down stops it all, keeping the data; up resumes it with its settings, a ConfigMap made before still there', async () => {
    const created = await kubectl(state().kubeconfig, ['create', 'configmap', 'kept-across-restart', '--from-literal=answer=42']);
    expect(created.code, created.stderr).toBe(0);
    const down = await k8ts(['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(pids.filter(pidAlive)).toEqual([]);
    const after = await k8ts(['status']);
    expect([after.code, after.stdout.trim()]).toEqual([1, `no cluster state in ${dir}`]);

    // No --base-port: the saved one (the store's members know each other by their ports).
    const again = await k8ts(['up']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(`resuming the k8ts cluster in ${dir} (base port ${basePort}, 0 nodes)`);
    expect(again.stdout).toMatch(/^ {2}store-1 +ready in \d+\.\d s$/m);
    pids = state().processes.map((p) => p.pid);
    const value = await kubectl(state().kubeconfig, ['get', 'configmap', 'kept-across-restart', '-o', 'jsonpath={.data.answer}']);
    expect([value.code, value.stdout], value.stderr).toEqual([0, '42']);
  }, 120_000);
});
