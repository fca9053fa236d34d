import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts, kubectl, runCommand, type CommandResult } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ComposeTarget } from '../../packages/chaos/src/compose_target.js';
import { eventually } from '../client/harness.js';
import { clearProject, engineAnswers, TEST_PROJECTS } from './engine.js';

/**
 * `k8ts chaos --target compose` as a user runs it against `pnpm compose:up --nodes 2` (a project and
 * API port of its own): first the compose target's faults one by one on the real containers (kill
 * and restart, pause and resume, a node cut off and healed; leaders, pods and addresses read), then a
 * seeded 90 s run of the faults the "done" names — the store leader, an apiserver, the
 * scheduler and controller-manager leaders and a node container killed, a node cut off — which must
 * pass every check (exit 0) and report. Then `compose:down --volumes`.
 * Skipped when no Docker engine answers (.ci/run starts one).
 */

const root = resolve(new URL('../..', import.meta.url).pathname);
const COMPOSE = join(root, 'deploy', 'compose.sh');
const K8TS = join(root, 'node_modules', '.bin', 'k8ts');
const PROJECT = TEST_PROJECTS.chaos;
const FAULTS = ['kill-store-leader', 'kill-apiserver', 'kill-scheduler-leader', 'kill-controller-manager-leader', 'kill-node', 'cut-node'];

const dir = mkdtempSync(join(tmpdir(), 'k8ts-compose-chaos-'));
const kubeconfig = join(dir, 'kubeconfig');
// docker-compose 1.29 gives up on an engine request after 60 s: on a busy 2-core machine starting 13 containers takes longer.
const env: Record<string, string> = { COMPOSE_PROJECT_NAME: PROJECT, K8TS_COMPOSE_KUBECONFIG: kubeconfig, K8TS_API_PORT: '', COMPOSE_HTTP_TIMEOUT: '240' };

function compose(args: string[], timeoutMs: number): Promise<CommandResult> {
  return runCommand('bash', [COMPOSE, ...args], { timeoutMs, env });
}

/** Whether something answers HTTP at the URL within a second (any status). */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

async function nodesReady(): Promise<string[]> {
  const nodes = await kubectl(kubeconfig, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}']);
  return nodes.stdout.trim().split(' ').filter((entry) => entry.endsWith('=True')).map((entry) => entry.slice(0, -'=True'.length));
}

interface ReportSeen {
  ok: boolean;
  seed: number;
  target: string;
  faults: { kind: string; part?: string; recoveryMs?: number; error?: string }[];
  byKind: unknown[];
  checks: { name: string; ok: boolean; detail: string }[];
  html: string;
}

describe.skipIf(!engineAnswers())('k8ts chaos --target compose', () => {
  beforeAll(async () => {
    clearProject(PROJECT); // what an interrupted run of this file left
    const [port] = await freePorts(1);
    env['K8TS_API_PORT'] = String(port);
    const up = await compose(['up', '--nodes', '2', '--timeout', '240'], 330_000);
    expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
  }, 340_000);

  afterAll(async () => {
    const result = await compose(['down', '--volumes'], 180_000);
    if (result.code !== 0) {
      console.error(`compose down: ${result.stderr}`);
      clearProject(PROJECT); // so that no later file shares the machine with this cluster
    }
    rmSync(dir, { recursive: true, force: true });
  }, 200_000);

  test('the compose target kills and restarts, pauses and resumes, cuts off and heals real containers, and reads leaders and pods from them', async () => {
    const target = await ComposeTarget.open(PROJECT);
    try {
      const parts = target.parts();
      expect(parts).toMatchObject({ stores: ['store-1', 'store-2', 'store-3'], apiservers: ['apiserver-1', 'apiserver-2'], schedulers: ['scheduler-1', 'scheduler-2'], controllerManagers: ['controller-manager-1', 'controller-manager-2'] });
      // Nodes are named as their Nodes are (the containers' hostnames).
      expect([...parts.nodes].sort()).toEqual((await nodesReady()).sort());
      expect(parts.nodeHosts).toEqual(parts.nodes);
      const up = async (part: string): Promise<boolean | undefined> => (await target.processes()).find((p) => p.name === part)?.up;

      // A leader for each role, among that role's parts (each looked for on its own: on a busy machine
      // a replica's /metrics may miss the 1 s deadline now and then).
      const roles = { 'store-leader': parts.stores, 'scheduler-leader': parts.schedulers, 'controller-manager-leader': parts.controllerManagers };
      for (const [role, members] of Object.entries(roles)) {
        await eventually(async () => members.includes((await target.leaders())[role] ?? ''), 120_000, `a ${role} among ${members.join(', ')}`);
      }

      // The store leader killed: down, no namespace; started again with a new pid, the same address, and a leader again.
      const storeLeader = await target.resolve('store-leader');
      const address = target.address(storeLeader);
      const namespaceBefore = target.networkNamespace(storeLeader);
      await target.kill(storeLeader);
      expect(await up(storeLeader)).toBe(false);
      expect(await answers(`http://${address}:2379/health`)).toBe(false);
      expect(() => target.networkNamespace(storeLeader)).toThrow(/not running/);
      await target.restart(storeLeader);
      expect(await up(storeLeader)).toBe(true);
      expect(target.address(storeLeader)).toBe(address);
      expect(target.networkNamespace(storeLeader)).not.toEqual(namespaceBefore);
      await eventually(async () => (await target.leaders())['store-leader'] !== undefined, 60_000, 'a store leader after the kill');

      // An apiserver paused: still up (a paused process runs), but silent until resumed.
      const apiserver = 'apiserver-1';
      await target.pause(apiserver);
      expect(await up(apiserver)).toBe(true);
      expect(await answers(`http://${target.address(apiserver)}:8080/readyz`)).toBe(false);
      await target.resume(apiserver);
      await eventually(() => answers(`http://${target.address(apiserver)}:8080/readyz`), 30_000, `${apiserver} answering after resume`);

      // A pod is seen where the node itself runs it (its runtime's records).
      // (Asked again while the API load balancer has not yet seen the resumed apiserver ready: kubectl gets EOF then.)
      await eventually(async () => {
        const run = await kubectl(kubeconfig, ['run', 'echo', '--image', 'k8ts/http-echo', '--restart', 'Never']);
        return run.code === 0 || run.stderr.includes('AlreadyExists');
      }, 60_000, 'kubectl run echo');
      let node = '';
      await eventually(async () => {
        node = (await kubectl(kubeconfig, ['get', 'pod', 'echo', '-o', 'jsonpath={.spec.nodeName} {.status.phase}'])).stdout.replace(/ Running$/, '');
        return parts.nodes.includes(node);
      }, 60_000, 'the pod Running');
      await eventually(async () => (await target.runningPods()).some((p) => p.node === node && p.pod === 'default/echo'), 30_000, `default/echo among ${node}'s running pods`);

      // That node cut off: its address silent (the agent's healthz), then answering again once healed; cut and heal are idempotent.
      const healthz = `http://${target.address(node)}:10248/healthz`;
      expect(await answers(healthz)).toBe(true);
      await target.cut(node);
      await target.cut(node);
      expect(await answers(healthz)).toBe(false);
      await target.heal(node);
      await target.heal(node);
      await eventually(() => answers(healthz), 30_000, `${node} answering after the heal`);
      // The pod deleted (asked again on a transient refusal, as above: kubectl itself does not retry).
      await eventually(async () => {
        const deleted = await kubectl(kubeconfig, ['delete', 'pod', 'echo', '--wait=false']);
        if (deleted.code !== 0) console.error(`kubectl delete pod echo: ${deleted.stderr.trim()}`);
        return deleted.code === 0 || deleted.stderr.includes('NotFound');
      }, 60_000, 'kubectl delete pod echo');
    } finally {
      target.close();
    }
  }, 300_000);

  test('a seeded 90 s of control-plane, node-container and node-link faults: every check passes, every fault is healed, a report', async () => {
    // A whole cluster to start from: every node Ready again after the previous test's faults.
    await eventually(async () => (await nodesReady()).length === 2, 120_000, 'both nodes Ready');
    // And every part running: a leader that lost its Lease under the previous test's store-leader
    // kill exits, as kube-scheduler does, and Docker starts it again; `k8ts chaos` refuses a project
    // that is not whole.
    await eventually(async () => {
      try {
        (await ComposeTarget.open(PROJECT)).close();
        return true;
      } catch {
        return false;
      }
    }, 120_000, 'every part of the project running');
    const html = join(dir, 'report.html');
    const chaos = await runCommand(K8TS, ['chaos', '--target', 'compose', '--project', PROJECT, '--duration', '90s', '--seed', '1', '--faults', FAULTS.join(','), '--json', '--html', html], { timeoutMs: 420_000 });
    expect(chaos.code, `${chaos.stdout}\n${chaos.stderr}`).toBe(0);
    const report = JSON.parse(chaos.stdout) as ReportSeen;
    // The figures, as the README quotes them: recovery per fault kind.
    console.log(JSON.stringify(report.byKind));
    expect(report).toMatchObject({ ok: true, seed: 1, target: `compose project ${PROJECT}`, html });
    expect(report.checks.every((check) => check.ok)).toBe(true);
    // Seed 1 over 90 s schedules every one of the six kinds; each hit a part and was healed.
    expect(new Set(report.faults.map((fault) => fault.kind))).toEqual(new Set(FAULTS));
    for (const fault of report.faults) expect(fault, JSON.stringify(fault)).toMatchObject({ part: expect.any(String) });
    expect(report.faults.filter((fault) => fault.error !== undefined)).toEqual([]);
    expect(report.faults.some((fault) => fault.recoveryMs !== undefined)).toBe(true);
    expect(existsSync(html)).toBe(true);
    expect(readFileSync(html, 'utf8')).toMatch(/<svg [^>]*>.*<\/svg>/s);
  }, 450_000);
});
