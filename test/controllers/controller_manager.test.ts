import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CONTROLLER_MANAGER_BINARY } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually, managerLeads } from './control_plane.js';

/**
 * The k8ts-controller-manager process as an operator meets it: flags checked as upstream, two
 * replicas of which one leads on the Lease kube-system/kube-controller-manager (its /metrics says
 * so), and a kill -9 of the leader hands the Lease to the other.
 */

let plane: ControlPlane;

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
    await eventually(async () => Number(await managerLeads(first)) + Number(await managerLeads(second)) === 1, 30_000, 'one leader among two replicas');
    const [leader, standby] = (await managerLeads(first)) ? [first, second] : [second, first];
    const before = await plane.leaseHolder();
    expect(before).not.toBe('');
    await leader.kill();
    await eventually(async () => await managerLeads(standby), 30_000, 'the standby leads');
    const after = await plane.leaseHolder();
    expect(after).not.toBe(before);
    await standby.stop();
  });
});
