/**
 * What a new user does with a two-node cluster, with the real kubectl: a Deployment of
 * k8ts/http-echo and a NodePort Service, the pods spread and Running, reached through the NodePort
 * and through the Service's name from a pod; scale, roll an update, undo it; logs, exec; cordon and
 * drain a node; delete the namespace. Registered by each cluster's suite (`k8ts up`, compose).
 */
import { getJsonOnce, kubectl as runKubectl } from '@k8ts/testkit';
import { expect, test } from 'vitest';
import { waitFor } from '../node/lifecycle_cluster.js';

/** The cluster a suite brought up (read once its beforeAll has run). */
export interface WalkthroughCluster {
  readonly kubeconfig: string;
  /** Where this machine reaches a node (its NodePorts), by Node name. */
  nodeAddress(node: string): string;
}

const NS = 'walk';

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

/** Registers the walk-through's tests in the calling describe; `cluster` is called inside them. */
export function walkthroughTests(cluster: () => WalkthroughCluster): void {
  async function kubectl(args: readonly string[], input?: string): Promise<string> {
    const result = await runKubectl(cluster().kubeconfig, args, { timeoutMs: 90_000, ...(input !== undefined ? { input } : {}) });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  /** The two nodes' names, sorted. */
  async function nodeNames(): Promise<string[]> {
    const names = (await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(' ').sort();
    expect(names).toHaveLength(2);
    return names;
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


  test('a Deployment and a NodePort Service: spread, Running, reached by NodePort and by name', async () => {
    const nodes = await nodeNames();
    await kubectl(['create', 'namespace', NS]);
    await kubectl(['apply', '-f', '-'], MANIFEST);
    const pods = await waitFor(async () => {
      const ready = await readyPods();
      return ready.length === 2 ? ready : undefined;
    }, 120_000, 'two web pods Ready');
    expect(new Set(pods.map((pod) => pod.node))).toEqual(new Set(nodes));

    const nodePort = Number(await kubectl(['get', 'service', 'web', '-n', NS, '-o', 'jsonpath={.spec.ports[0].nodePort}']));
    const nodeIp = cluster().nodeAddress(nodes[0]!);
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
    const exec = await runKubectl(cluster().kubeconfig, ['exec', '-n', NS, pod!.name, '--', 'sh', '-c', 'echo inside; exit 3'], { timeoutMs: 60_000 });
    expect(exec.stdout.trim()).toBe('inside');
    expect(exec.code).toBe(3);
  }, 120_000);

  test('cordon and drain a node: its pods move to the other; delete the namespace', async () => {
    const nodes = await nodeNames();
    const [kept, drained] = nodes as [string, string];
    await kubectl(['cordon', drained]);
    expect(await kubectl(['get', 'node', drained, '-o', 'jsonpath={.spec.unschedulable}'])).toBe('true');
    await kubectl(['drain', drained, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=150s']);
    await waitFor(async () => {
      const pods = await readyPods();
      return pods.length === 3 && pods.every((pod) => pod.node === kept) ? true : undefined;
    }, 150_000, `every replica on ${kept}`);
    await kubectl(['uncordon', drained]);

    await kubectl(['delete', 'namespace', NS, '--timeout=150s']);
    const gone = await runKubectl(cluster().kubeconfig, ['get', 'namespace', NS], { timeoutMs: 30_000 });
    expect(gone.stderr).toContain(`namespaces "${NS}" not found`);
  }, 360_000);
}
