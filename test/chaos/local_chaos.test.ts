import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand, type CommandResult } from '@k8ts/testkit';
import { afterAll, expect, test } from 'vitest';

/**
 * `k8ts chaos` as a user runs it: `k8ts up --nodes 2` in a folder of its own, then a seeded minute of
 * faults against it while the workload runs (a Deployment scaled and rolled behind a NodePort
 * Service requested from this machine and through its cluster IP from a pod on each node, registers
 * in the store), then the report: exit 0 only when every check passes. Then
 * `k8ts down --purge`.
 *
 * The base port is fixed (31537: its node subnet 172.30.37.0/24 and ports 31538..31642 are used by
 * no other suite). Time limits are generous: on a busy 2-core machine `k8ts up` took 79 s and the
 * whole test 174 s (the run waits for the Deployment's rollouts and reads the in-pod probers to the end).
 */

const K8TS = resolve(new URL('../../node_modules/.bin/k8ts', import.meta.url).pathname);
const BASE_PORT = '31537';
const dir = mkdtempSync(join(tmpdir(), 'k8ts-chaos-'));

function k8ts(args: string[], timeoutMs: number): Promise<CommandResult> {
  return runCommand(K8TS, [...args, '--dir', dir], { timeoutMs });
}

afterAll(async () => {
  await k8ts(['down', '--purge'], 60_000);
}, 70_000);

interface ReportSeen {
  ok: boolean;
  seed: number;
  faults: { kind: string; part?: string; recoveryMs?: number; error?: string }[];
  checks: { name: string; ok: boolean; detail: string }[];
  requests: { service: { total: number }; serviceClusterIp: { total: number }; answeredBy: number; storeWrites: { total: number } };
  html: string;
}

test('a seeded minute of faults against k8ts up --nodes 2: every check passes, every fault is put in place and healed, and a report', async () => {
  const up = await k8ts(['up', '--nodes', '2', '--base-port', BASE_PORT], 150_000);
  expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);

  const html = join(dir, 'report.html');
  const chaos = await k8ts(['chaos', '--duration', '60s', '--seed', '1', '--json', '--html', html], 300_000);
  expect(chaos.code, `${chaos.stdout}\n${chaos.stderr}`).toBe(0);
  const report = JSON.parse(chaos.stdout) as ReportSeen;
  expect(report).toMatchObject({ ok: true, seed: 1, html });
  expect(report.checks.map((check) => check.name)).toEqual([
    'register history linearizable',
    'no acknowledged write lost',
    'deployment back to desired ready replicas within 60 s of the last heal',
    'pods of a dead node replaced elsewhere within 60 s of their eviction',
    'no pod running on two nodes at once',
    'no node over-committed',
    'Services answer from ready pods only (5 s allowed for endpoints to follow)',
    'every process up at the end',
  ]);
  expect(report.faults.length).toBeGreaterThanOrEqual(3);
  // Each fault hit a part and was healed; recovery is measured until the next fault starts (a slower one shows as not seen).
  for (const fault of report.faults) expect(fault, JSON.stringify(fault)).toMatchObject({ part: expect.any(String) });
  expect(report.faults.filter((fault) => fault.error !== undefined)).toEqual([]);
  expect(report.faults.some((fault) => fault.recoveryMs !== undefined)).toBe(true);
  expect(report.requests.service.total).toBeGreaterThan(100);
  // The Service was also requested through its cluster IP from a pod on each node, and more than one pod answered.
  expect(report.requests.serviceClusterIp.total).toBeGreaterThan(100);
  expect(report.requests.answeredBy).toBeGreaterThan(1);
  expect(report.requests.storeWrites.total).toBeGreaterThan(100);
  expect(existsSync(html)).toBe(true);
  expect(readFileSync(html, 'utf8')).toMatch(/<svg [^>]*>.*<\/svg>/s);

  // Every part the faults restarted is the one `k8ts status` (and `down`) now find.
  const status = await k8ts(['status'], 30_000);
  expect(status.code, status.stdout).toBe(0);
}, 480_000);
