import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CONTROLLER_MANAGER_BINARY, type ComponentProcess } from '@k8ts/testkit';
import type { KubeObject } from '@k8ts/client';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from './control_plane.js';

/**
 * The k8ts-controller-manager process as an operator meets it: flags checked as upstream, two
 * replicas of which one leads on the Lease kube-system/kube-controller-manager (its /metrics says
 * so), and a kill -9 of the leader hands the Lease to the other.
 */

let plane: ControlPlane;

async function leaderGauge(manager: ComponentProcess): Promise<number> {
  const text = await (await fetch(`${manager.healthUrl}/metrics`)).text();
  const match = /^leader_election_master_status\{name="kube-controller-manager"\} (\d)$/m.exec(text);
  return Number(match?.[1] ?? -1);
}

async function holder(): Promise<string> {
  const lease = await plane.client.resource<Lease & KubeObject>('coordination.k8s.io', 'v1', 'leases').namespace('kube-system').get('kube-controller-manager');
  return lease.spec?.holderIdentity ?? '';
}

beforeAll(async () => {
  plane = await ControlPlane.start();
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('k8ts-controller-manager', () => {
  test('refuses bad flags with exit status 2, as kube-controller-manager', async () => {
    const run = (args: string[]) => promisify(execFile)(CONTROLLER_MANAGER_BINARY, args).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    const unknown = await run(['--master', plane.grpcAddress, '--controllers', '*,nosuchcontroller']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"nosuchcontroller" is not in the list of known controllers');
    const duration = await run(['--master', plane.grpcAddress, '--node-monitor-grace-period', '50']);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('invalid duration "50"');
    const missing = await run([]);
    expect(missing.code).toBe(2);
  });

  test('one of two replicas leads; killing it (kill -9) hands the Lease to the other', async () => {
    const first = await plane.startManager('*');
    const second = await plane.startManager('*');
    await eventually(async () => (await leaderGauge(first)) + (await leaderGauge(second)) === 1, 30_000, 'one leader among two replicas');
    const [leader, standby] = (await leaderGauge(first)) === 1 ? [first, second] : [second, first];
    const before = await holder();
    expect(before).not.toBe('');
    await leader.kill();
    await eventually(async () => (await leaderGauge(standby)) === 1, 30_000, 'the standby leads');
    const after = await holder();
    expect(after).not.toBe(before);
    await standby.stop();
  });
});
