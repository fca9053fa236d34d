import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts, kubectl, runCommand, type CommandResult } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clearProject, engineAnswers, TEST_PROJECTS } from './engine.js';

/**
 * The compose cluster as a user starts it, and what kind and k3d users report breaking theirs, on
 * one cluster (each test builds on the one before): `pnpm compose:up --nodes 2` (deploy/compose.sh)
 * stages and builds the image, starts nats, three store members, two API servers, the API load
 * balancer, two schedulers, two controller managers and two node containers, and returns once both
 * nodes are Ready; the real kubectl through the published port runs an http-echo pod (with the
 * compose file's 15 s default tolerations) and reads its log through NATS; a pod over its memory
 * limit is OOM-killed by the kernel (node containers' cgroups are writable); `--scale node=3` adds a
 * node named by its hostname; a node container back with a new address updates its Node and the other
 * nodes' routes to its pods; `docker compose restart` and `down` then `up` keep the store's data;
 * `compose:down --volumes` removes it all. Skipped when no Docker engine answers (.ci/run starts one).
 */

const root = resolve(new URL('../..', import.meta.url).pathname);
const COMPOSE = join(root, 'deploy', 'compose.sh');
const PROJECT = TEST_PROJECTS.cluster;
const NETWORK = `${PROJECT}_k8ts`;
const IMAGE = process.env['K8TS_IMAGE'] ?? 'k8ts/k8ts:local';
/** A container that takes a stopped node container's address. */
const HOLDER = `${PROJECT}-address-holder`;

const dir = mkdtempSync(join(tmpdir(), 'k8ts-compose-'));
const kubeconfig = join(dir, 'kubeconfig');
const env: Record<string, string> = { COMPOSE_PROJECT_NAME: PROJECT, K8TS_COMPOSE_KUBECONFIG: kubeconfig, K8TS_API_PORT: '' };

function compose(args: string[], timeoutMs: number): Promise<CommandResult> {
  return runCommand('bash', [COMPOSE, ...args], { timeoutMs, env });
}

async function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  const result = await runCommand('docker', args, { timeoutMs });
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Until every container is healthy and every node Ready (what compose:up waits for). */
async function waitReady(timeoutSeconds: number): Promise<void> {
  const wait = await runCommand('node', [join(root, 'deploy', 'wait-ready.mjs'), PROJECT, `http://127.0.0.1:${env['K8TS_API_PORT']}`, String(timeoutSeconds)], {
    timeoutMs: (timeoutSeconds + 30) * 1000,
  });
  console.log(wait.stdout);
  expect(wait.code, wait.stderr).toBe(0);
}

/** Polls `check` once a second (each look runs kubectl or docker) until it holds or the deadline passes. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function get(args: string[]): Promise<string> {
  const result = await kubectl(kubeconfig, ['get', ...args]);
  return result.code === 0 ? result.stdout.trim() : `error: ${result.stderr.trim()}`;
}

/** The node containers: hostname (the Node's name), container id and address on the network. */
async function nodeContainers(): Promise<{ hostname: string; id: string; ip: string }[]> {
  const ids = (await docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', 'label=com.docker.compose.service=node'])).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const lines = await docker(['inspect', '-f', `{{.Config.Hostname}} {{.Id}} {{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, ...ids]);
  return lines.split('\n').map((line) => {
    const [hostname = '', id = '', ip = ''] = line.split(' ');
    return { hostname, id, ip };
  });
}

async function readyNodes(): Promise<string[]> {
  const out = await get(['nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}']);
  return out
    .split(' ')
    .filter((entry) => entry.endsWith('=True'))
    .map((entry) => entry.slice(0, -'=True'.length))
    .sort();
}

/** A pod of k8ts/http-echo on the named node (by its hostname label, as a user would pin it). */
function echoPod(name: string, node: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeSelector: { 'kubernetes.io/hostname': node }, containers: [{ name: 'echo', image: 'k8ts/http-echo' }] },
  });
}

async function runningAndReady(pod: string): Promise<boolean> {
  return (await get(['pod', pod, '-o', 'jsonpath={.status.phase} {.status.conditions[?(@.type=="Ready")].status}'])) === 'Running True';
}

/** What http-echo at `ip` answers (its pod's name), asked from inside the `echo` pod. */
async function askFromEchoPod(ip: string): Promise<string> {
  const script = `fetch('http://${ip}:8080/', { signal: AbortSignal.timeout(5000) }).then((r) => r.json()).then((j) => console.log(j.pod))`;
  const result = await kubectl(kubeconfig, ['exec', 'echo', '--', 'node', '-e', script], { timeoutMs: 30_000 });
  return result.code === 0 ? result.stdout.trim() : `error: ${result.stderr.trim()}`;
}

describe.skipIf(!engineAnswers())('docker compose cluster', () => {
  beforeAll(() => clearProject(PROJECT)); // what an interrupted run of this file left

  afterAll(async () => {
    await runCommand('docker', ['rm', '-f', HOLDER], { timeoutMs: 60_000 });
    const result = await compose(['down', '--volumes'], 180_000);
    if (result.code !== 0) {
      console.error(`compose down: ${result.stderr}`);
      clearProject(PROJECT); // so that no later file shares the machine with this cluster
    }
    rmSync(dir, { recursive: true, force: true });
  }, 240_000);

  test('compose:up with 2 nodes serves kubectl through the published port and runs an http-echo pod', async () => {
    const [port] = await freePorts(1);
    env['K8TS_API_PORT'] = String(port);
    const up = await compose(['up', '--nodes', '2', '--timeout', '240'], 330_000);
    // The build and start-up figures, as compose:up prints them.
    console.log(up.stdout);
    expect(up.code, up.stderr).toBe(0);
    expect(await readyNodes()).toEqual((await nodeContainers()).map((c) => c.hostname).sort());

    const run = await kubectl(kubeconfig, ['run', 'echo', '--image', 'k8ts/http-echo', '--restart', 'Never']);
    expect(run.code, run.stderr).toBe(0);
    await until(() => runningAndReady('echo'), 90_000, 'the http-echo pod to be Running and Ready');
    await until(async () => (await kubectl(kubeconfig, ['logs', 'echo'])).stdout.includes('http-echo listening on :8080'), 30_000, "the pod's log through NATS");
    // The compose file's timings: the apiserver gives pods 15 s default tolerations.
    expect(await get(['pod', 'echo', '-o', 'jsonpath={.spec.tolerations[*].tolerationSeconds}'])).toBe('15 15');
    const marker = await kubectl(kubeconfig, ['create', 'configmap', 'marker', '--from-literal', 'kept=yes']);
    expect(marker.code, marker.stderr).toBe(0);
  }, 400_000);

  test('a pod over its memory limit is OOM-killed by its cgroup in the node container', async () => {
    const hog = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hog' },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'hog', image: 'k8ts/stress', args: ['--memory', '300Mi', '--timeout', '120s'], resources: { limits: { memory: '64Mi' } } }],
      },
    };
    const file = join(dir, 'hog.json');
    writeFileSync(file, JSON.stringify(hog));
    const apply = await kubectl(kubeconfig, ['apply', '-f', file]);
    expect(apply.code, apply.stderr).toBe(0);
    await until(async () => (await get(['pod', 'hog', '-o', 'jsonpath={.status.phase}'])) === 'Failed', 120_000, 'the hog pod to fail');
    expect(await get(['pod', 'hog', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.reason}'])).toBe('OOMKilled');
    // The kernel's doing, not the agent's fallback that polls /proc: its runtime found cgroups.
    const node = await get(['pod', 'hog', '-o', 'jsonpath={.spec.nodeName}']);
    const container = (await nodeContainers()).find((c) => c.hostname === node);
    const logs = await runCommand('docker', ['logs', container?.id ?? node], { timeoutMs: 60_000 });
    expect(logs.stdout + logs.stderr).toMatch(/"cgroups":[12],/);
    await kubectl(kubeconfig, ['delete', 'pod', 'hog', '--wait=false']);
  }, 200_000);

  test('--scale node=3 adds a node named by its container hostname', async () => {
    const scale = await compose(['compose', 'up', '-d', '--no-build', '--no-recreate', '--scale', 'node=3'], 180_000);
    expect(scale.code, scale.stderr).toBe(0);
    await waitReady(240);
    const containers = await nodeContainers();
    expect(containers).toHaveLength(3);
    expect(await readyNodes()).toEqual(containers.map((c) => c.hostname).sort());
  }, 330_000);

  test("a node container back with a new address: its Node's InternalIP follows, and other nodes reach its pods", async () => {
    const echoNode = await get(['pod', 'echo', '-o', 'jsonpath={.spec.nodeName}']);
    const moved = (await nodeContainers()).find((c) => c.hostname !== echoNode);
    if (moved === undefined) throw new Error('no node container without the echo pod');
    // Off the network while stopped, and its old address taken by another container meanwhile (as
    // after an engine restart that started the containers in another order; docker gives out the
    // lowest free address): it comes back at another.
    await docker(['stop', '-t', '10', moved.id], 120_000);
    await docker(['network', 'disconnect', NETWORK, moved.id]);
    await docker(['run', '-d', '--name', HOLDER, '--network', NETWORK, '--entrypoint', 'sleep', IMAGE, '3600']);
    try {
      await docker(['network', 'connect', NETWORK, moved.id]);
      await docker(['start', moved.id], 120_000);
      const now = (await nodeContainers()).find((c) => c.id === moved.id);
      expect(now?.ip).toBeDefined();
      expect(now?.ip).not.toBe(moved.ip);

      await until(
        async () => (await get(['node', moved.hostname, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address} {.status.conditions[?(@.type=="Ready")].status}'])) === `${now?.ip} True`,
        180_000,
        `node ${moved.hostname} Ready at its new address ${now?.ip}`,
      );
      const create = await kubectl(kubeconfig, ['apply', '-f', '-'], { input: echoPod('moved', moved.hostname) });
      expect(create.code, create.stderr).toBe(0);
      await until(() => runningAndReady('moved'), 120_000, 'a pod on the moved node to be Running and Ready');
      const podIP = await get(['pod', 'moved', '-o', 'jsonpath={.status.podIP}']);
      // The echo pod's node routes the moved node's podCIDR via its new address.
      await until(async () => (await askFromEchoPod(podIP)) === 'moved', 60_000, 'the moved node\'s pod answering the echo pod on another node');
    } finally {
      await runCommand('docker', ['rm', '-f', HOLDER], { timeoutMs: 60_000 });
    }
  }, 400_000);

  test('docker compose restart: every part back, the store keeps its data, a pod that ran before runs again in a new sandbox, and new pods run', async () => {
    const node = (await nodeContainers())[0]?.hostname ?? '';
    const before = await kubectl(kubeconfig, ['apply', '-f', '-'], { input: echoPod('before-restart', node) });
    expect(before.code, before.stderr).toBe(0);
    await until(() => runningAndReady('before-restart'), 120_000, 'a pod to be Running and Ready before the restart');
    const restart = await compose(['compose', 'restart'], 300_000);
    expect(restart.code, restart.stderr).toBe(0);
    await waitReady(300);
    expect(await get(['configmap', 'marker', '-o', 'jsonpath={.data.kept}'])).toBe('yes');
    // Its sandbox's namespaces died with the node container: the agent reports it not ready and the
    // kubelet makes a new one (as upstream after a reboot), so the pod runs again.
    await until(() => runningAndReady('before-restart'), 180_000, 'the pod from before the restart to run again');
    const create = await kubectl(kubeconfig, ['apply', '-f', '-'], { input: echoPod('after-restart', node) });
    expect(create.code, create.stderr).toBe(0);
    await until(() => runningAndReady('after-restart'), 120_000, 'a pod created after the restart to be Running and Ready');
  }, 600_000);

  test('compose:down then up: the store keeps its data, new node containers are new nodes', async () => {
    const down = await compose(['down'], 180_000);
    expect(down.code, down.stderr).toBe(0);
    const up = await compose(['compose', 'up', '-d', '--no-build', '--scale', 'node=2'], 240_000);
    expect(up.code, up.stderr).toBe(0);
    await waitReady(300);
    expect(await get(['configmap', 'marker', '-o', 'jsonpath={.data.kept}'])).toBe('yes');
    expect(await readyNodes()).toEqual((await nodeContainers()).map((c) => c.hostname).sort());
  }, 600_000);
});
