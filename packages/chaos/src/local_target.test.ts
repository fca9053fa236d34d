import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchProcess, pidAlive } from '@k8ts/testkit';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { LocalTarget, flagValue, role } from './local_target.js';

/** Real processes (sleep) standing in for a cluster's parts, in a state file as `k8ts up` writes it. */

let dir: string;
const started: number[] = [];

function startSleeper(dir: string, name: string): number {
  const child = launchProcess('sleep', ['600'], { output: { file: join(dir, `${name}.log`) }, detached: true });
  child.unref();
  started.push(child.pid as number);
  return child.pid as number;
}

function state(): { processes: { name: string; pid: number; log: string; command?: string[]; lease?: string }[] } {
  return JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8'));
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 5 s: ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

const processState = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'k8ts-chaos-target-'));
  const processes = [
    { name: 'scheduler-1', pid: startSleeper(dir, 'scheduler-1'), log: join(dir, 'scheduler-1.log'), command: ['sleep', '600'], lease: 'kube-scheduler' },
    // No recorded command (an older state file): the target reads it from /proc when it opens.
    { name: 'controller-manager-1', pid: startSleeper(dir, 'controller-manager-1'), log: join(dir, 'controller-manager-1.log') },
  ];
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ processes, apiservers: [], kubeconfig: join(dir, 'kubeconfig') }));
});

afterEach(() => {
  for (const pid of [...started, ...state().processes.map((p) => p.pid)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  started.length = 0;
  rmSync(dir, { recursive: true, force: true });
});

describe('LocalTarget', () => {
  test('kill -9 takes a part down; restart runs its command again and records the new pid for k8ts down', async () => {
    const target = LocalTarget.open(dir);
    const before = state().processes[0] as { pid: number };
    await target.kill('scheduler-1');
    expect(pidAlive(before.pid)).toBe(false);
    expect(await target.processes()).toEqual([{ name: 'scheduler-1', up: false }, { name: 'controller-manager-1', up: true }]);
    await target.restart('scheduler-1');
    const after = state().processes[0];
    expect(after).toMatchObject({ name: 'scheduler-1', command: ['sleep', '600'], lease: 'kube-scheduler', log: join(dir, 'scheduler-1.log') });
    expect(after?.pid).not.toBe(before.pid);
    expect(pidAlive(after?.pid as number)).toBe(true);
    expect(readFileSync(`/proc/${after?.pid}/cmdline`, 'utf8')).toBe('sleep\u0000600\u0000');
  });

  test('a part with no recorded command restarts with the command line it ran with', async () => {
    const target = LocalTarget.open(dir);
    await target.kill('controller-manager-1');
    await target.restart('controller-manager-1');
    const pid = state().processes[1]?.pid as number;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u0000600\u0000');
  });

  test('pause stops the process (SIGSTOP), resume lets it run (SIGCONT)', async () => {
    const target = LocalTarget.open(dir);
    const pid = state().processes[0]?.pid as number;
    await target.pause('scheduler-1');
    await until('stopped', () => processState(pid) === 'T');
    await target.resume('scheduler-1');
    await until('running again', () => processState(pid) !== 'T');
  });

  test('refuses a cluster that is not whole, a running part to restart, and an unknown part', async () => {
    const target = LocalTarget.open(dir);
    await expect(target.restart('scheduler-1')).rejects.toThrow(/is running: not restarted/);
    await expect(target.kill('store-9')).rejects.toThrow(/no part "store-9"/);
    await target.kill('scheduler-1');
    expect(() => LocalTarget.open(dir)).toThrow(/not whole: scheduler-1 not running/);
  });

  test('node and store hosts: only nodes can be cut off; link faults go into both, through their namespaces and addresses', () => {
    const host = (name: string, ip: string) => ({ name, netns: `k8tsn1-${name}`, ip, enterWithCgroups: [] });
    const recorded = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as { processes: { name: string; pid: number; log: string; command?: string[] }[] };
    const sleeper = (name: string, extra: string[]) => ({ name, pid: startSleeper(dir, name), log: join(dir, `${name}.log`), command: ['sleep', '600', ...extra] });
    recorded.processes.push(sleeper('store-1', ['--listen-client-urls', 'http://172.30.1.4:1']), sleeper('node-1', ['--node-ip', '172.30.1.2']));
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ ...recorded, apiservers: [], nodeHosts: { 'node-1': host('node-1', '172.30.1.2') }, storeHosts: { 'store-1': host('store-1', '172.30.1.4') } }));
    const target = LocalTarget.open(dir);
    expect(target.parts()).toMatchObject({ stores: ['store-1'], nodes: ['node-1'], nodeHosts: ['node-1'], linkParts: ['store-1', 'node-1'] });
    expect(target.networkNamespace('store-1')).toEqual(['ip', 'netns', 'exec', 'k8tsn1-store-1']);
    expect(target.address('store-1')).toBe('172.30.1.4');
    expect(target.networkNamespace('node-1')).toEqual(['ip', 'netns', 'exec', 'k8tsn1-node-1']);
    expect(target.address('node-1')).toBe('172.30.1.2');
    expect(target.networkNamespace('scheduler-1')).toBeUndefined();
    expect(target.address('scheduler-1')).toBeUndefined();
    expect(target.endpoints.stores.get('store-1')).toBe('http://172.30.1.4:1');
  });

  test('parts by role', () => {
    expect(LocalTarget.open(dir).parts()).toEqual({ stores: [], apiservers: [], schedulers: ['scheduler-1'], controllerManagers: ['controller-manager-1'], nodes: [], nodeHosts: [], linkParts: [] });
    expect(role('controller-manager-2')).toBe('controller-manager');
    expect(role('nats-server')).toBe('nats-server');
    expect(flagValue(['k8ts-store', '--listen-client-urls', 'http://127.0.0.1:1'], '--listen-client-urls')).toBe('http://127.0.0.1:1');
    expect(flagValue(['x', '--port=7'], '--port')).toBe('7');
  });
});
