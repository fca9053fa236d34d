import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts, kubectl, runCommand, type CommandResult } from '@k8ts/testkit';
import { afterAll, describe, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * The compose cluster as a user starts it: `pnpm compose:up --nodes 2` (deploy/compose.sh) stages
 * the built workspace, builds the image (on stand-in bases from this machine when no registry
 * answers), starts nats, three store members, two API servers, the API load balancer, two schedulers,
 * two controller managers and two node containers, and returns once both nodes are Ready; the real
 * kubectl, through the published port, sees the nodes and runs a pod of k8ts/http-echo in a node
 * container and reads its log (through NATS); `compose:down --volumes` removes it all.
 * Skipped when no Docker engine answers (.ci/run starts one).
 */

const root = resolve(new URL('../..', import.meta.url).pathname);
const COMPOSE = join(root, 'deploy', 'compose.sh');

function engineAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'k8ts-compose-'));
const kubeconfig = join(dir, 'kubeconfig');
const env = { COMPOSE_PROJECT_NAME: 'k8ts-test', K8TS_COMPOSE_KUBECONFIG: kubeconfig, K8TS_API_PORT: '' };

function compose(args: string[], timeoutMs: number): Promise<CommandResult> {
  return runCommand('bash', [COMPOSE, ...args], { timeoutMs, env });
}

describe.skipIf(!engineAnswers())('docker compose cluster', () => {
  afterAll(async () => {
    const result = await compose(['down', '--volumes'], 120_000);
    if (result.code !== 0) console.error(`compose down: ${result.stderr}`);
    rmSync(dir, { recursive: true, force: true });
  }, 150_000);

  test('compose:up with 2 nodes serves kubectl through the published port and runs an http-echo pod', async () => {
    const [port] = await freePorts(1);
    env.K8TS_API_PORT = String(port);
    const up = await compose(['up', '--nodes', '2', '--timeout', '180'], 270_000);
    // The build and start-up figures, as compose:up prints them.
    console.log(up.stdout);
    expect(up.code, up.stderr).toBe(0);

    const nodes = await kubectl(kubeconfig, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {end}']);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout.trim().split(' ')).toEqual(['True', 'True']);

    const run = await kubectl(kubeconfig, ['run', 'echo', '--image', 'k8ts/http-echo', '--restart', 'Never']);
    expect(run.code, run.stderr).toBe(0);
    await eventually(async () => {
      const pod = await kubectl(kubeconfig, ['get', 'pod', 'echo', '-o', 'jsonpath={.status.phase} {.status.conditions[?(@.type=="Ready")].status}']);
      return pod.stdout === 'Running True';
    }, 60_000, 'the http-echo pod to be Running and Ready');
    await eventually(async () => (await kubectl(kubeconfig, ['logs', 'echo'])).stdout.includes('http-echo listening on :8080'), 30_000, "the pod's log through NATS");
  }, 330_000);
});
