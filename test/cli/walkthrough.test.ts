/**
 * What a new user does with the cluster the README's first command gives (`k8ts up`, here with two
 * nodes in a temp dir), with the real kubectl: a Deployment of k8ts/http-echo and a NodePort Service,
 * the pods spread and Running, reached through the NodePort and through the Service's name from a
 * pod; scale, roll an update, undo it; logs, exec; cordon and drain a node; delete the namespace.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getJsonOnce, kubectl as runKubectl, runCommand, type CommandResult } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../node/lifecycle_cluster.js';
import { freeBasePort } from './cluster_ports.js';

const K8TS = resolve(new URL('../../node_modules/.bin/k8ts', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'k8ts-walk-'));
const NS = 'walk';

function k8ts(args: string[], timeoutMs = 180_000): Promise<CommandResult> {
  return runCommand(K8TS, [...args, '--dir', dir], { timeoutMs });
}

interface State {
  kubeconfig: string;
  nodeHosts?: Record<string, { ip: string; enter: string[] }>;
}
const state = (): State => JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as State;

async function kubectl(args: readonly string[], input?: string): Promise<string> {
  const result = await runKubectl(state().kubeconfig, args, { timeoutMs: 90_000, ...(input !== undefined ? { input } : {}) });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The names of the app's pods that are Running and Ready, and their nodes. */
async function readyPods(): Promise<{ name: string; node: string; image: string }[]> {
  const text = await kubectl(['get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.spec.containers[0].env[0].value} {.status.phase} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\\n"}{end}']);
  return text
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split(' '))
    .filter((fields) => fields[3] === 'Running' && fields[4] === 'True' && (fields[5] ?? '') === '')
    .map((fields) => ({ name: fields[0]!, node: fields[1]!, image: fields[2]! }));
}

const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: echo
        image: k8ts/http-echo
        env: [{name: ECHO_TEXT, value: v1}]
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /readyz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

// Services need kube-proxy and cluster DNS, which need root (node hosts, pod networks).
describe.skipIf(process.getuid?.() !== 0)('the README’s cluster, as a user drives it', () => {
  beforeAll(async () => {
    const base = await freeBasePort({ nodes: 2 });
    const up = await k8ts(['up', '--nodes', '2', '--base-port', String(base)]);
    if (up.code !== 0) throw new Error(`k8ts up failed: ${up.stdout}\n${up.stderr}`);
  }, 240_000);

  afterAll(async () => {
    await k8ts(['down', '--purge']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  test('a Deployment and a NodePort Service: spread, Running, reached by NodePort and by name', async () => {
    await kubectl(['create', 'namespace', NS]);
    await kubectl(['apply', '-f', '-'], MANIFEST);
    const pods = await waitFor(async () => {
      const ready = await readyPods();
      return ready.length === 2 ? ready : undefined;
    }, 120_000, 'two web pods Ready');
    expect(new Set(pods.map((pod) => pod.node))).toEqual(new Set(['node-1', 'node-2']));

    const nodePort = Number(await kubectl(['get', 'service', 'web', '-n', NS, '-o', 'jsonpath={.spec.ports[0].nodePort}']));
    const nodeIp = state().nodeHosts?.['node-1']?.ip ?? '';
    const seen = new Set<string>();
    let last = '';
    await waitFor(
      async () => {
        try {
          const answer = await getJsonOnce<{ pod: string }>(`http://${nodeIp}:${nodePort}/`);
          seen.add(answer.pod);
          last = answer.pod;
        } catch (error) {
          last = String((error as Error).cause ?? error);
        }
        return seen.size === 2 ? true : undefined;
      },
      60_000,
      `both replicas through the NodePort ${nodeIp}:${nodePort}`,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; seen ${[...seen].join(', ')}; last: ${last}`);
    });

    // From a pod, by the Service's name (cluster DNS and kube-proxy on its node).
    const script = "fetch('http://web/').then((r) => r.json()).then((j) => console.log(j.pod))";
    const answer = await kubectl(['exec', '-n', NS, pods[0]!.name, '--', 'node', '-e', script]);
    expect(pods.map((pod) => pod.name)).toContain(answer.trim());
  }, 240_000);

  test('scale, roll an update, undo it', async () => {
    await kubectl(['scale', 'deployment', 'web', '-n', NS, '--replicas', '3']);
    await waitFor(async () => ((await readyPods()).length === 3 ? true : undefined), 120_000, 'three replicas Ready');

    await kubectl(['set', 'env', 'deployment/web', '-n', NS, 'ECHO_TEXT=v2']);
    await kubectl(['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=150s']);
    await waitFor(async () => {
      const pods = await readyPods();
      return pods.length === 3 && pods.every((pod) => pod.image === 'v2') ? true : undefined;
    }, 60_000, 'every replica on v2');

    await kubectl(['rollout', 'undo', 'deployment/web', '-n', NS]);
    await kubectl(['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=150s']);
    await waitFor(async () => {
      const pods = await readyPods();
      return pods.length === 3 && pods.every((pod) => pod.image === 'v1') ? true : undefined;
    }, 60_000, 'every replica back on v1');
  }, 420_000);

  test('logs and exec', async () => {
    const [pod] = await readyPods();
    expect(await kubectl(['logs', '-n', NS, pod!.name])).toContain('http-echo listening on :8080');
    const exec = await runKubectl(state().kubeconfig, ['exec', '-n', NS, pod!.name, '--', 'sh', '-c', 'echo inside; exit 3'], { timeoutMs: 60_000 });
    expect(exec.stdout.trim()).toBe('inside');
    expect(exec.code).toBe(3);
  }, 120_000);

  test('cordon and drain a node: its pods move to the other; delete the namespace', async () => {
    await kubectl(['cordon', 'node-2']);
    expect(await kubectl(['get', 'node', 'node-2', '-o', 'jsonpath={.spec.unschedulable}'])).toBe('true');
    await kubectl(['drain', 'node-2', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=150s']);
    await waitFor(async () => {
      const pods = await readyPods();
      return pods.length === 3 && pods.every((pod) => pod.node === 'node-1') ? true : undefined;
    }, 150_000, 'every replica on node-1');
    await kubectl(['uncordon', 'node-2']);

    await kubectl(['delete', 'namespace', NS, '--timeout=150s']);
    const gone = await runKubectl(state().kubeconfig, ['get', 'namespace', NS], { timeoutMs: 30_000 });
    expect(gone.stderr).toContain(`namespaces "${NS}" not found`);
  }, 360_000);
});
