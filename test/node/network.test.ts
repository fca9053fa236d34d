import type { KubeObject, ResourceClient } from '@k8ts/client';
import { canUseNamespaces } from '@k8ts/kubelet';
import { NodeAgentProcess } from '@k8ts/testkit';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane, eventually } from '../controllers/control_plane.js';

/**
 * The pod network through real processes: a store, an apiserver, a controller manager allocating
 * node podCIDRs, and two process-runtime node agents in namespaced mode (each a bridge of its own in
 * this machine's network namespace, so pods on the two nodes reach each other through the host).
 */

type PodObject = Pod & KubeObject;
const support = await canUseNamespaces();

describe.skipIf(!support.ok)('pod network across two node agents', () => {
  const tag = randomBytes(3).toString('hex');
  // A cluster CIDR of this run's own, so a parallel run's bridges and routes never overlap.
  const clusterCIDR = `10.${100 + (randomBytes(1)[0]! % 50)}.0.0/16`;
  const agents: NodeAgentProcess[] = [];
  let plane: ControlPlane;
  let pods: ResourceClient<PodObject>;
  let namespace: string;

  beforeAll(async () => {
    plane = await ControlPlane.start();
    await plane.startManager('nodeipam', ['--allocate-node-cidrs', '--cluster-cidr', clusterCIDR, '--node-cidr-mask-size', '24']);
    for (const name of [`net-a-${tag}`, `net-b-${tag}`]) {
      agents.push(
        await NodeAgentProcess.start([plane.grpcAddress], {
          nodeName: name,
          extraArgs: ['--pod-network', 'namespaced', '--pod-bridge', `k8nw${name.slice(4, 5)}${tag}`, '--node-status-update-frequency', '1s'],
        }),
      );
    }
    pods = plane.client.resource<PodObject>('', 'v1', 'pods');
    namespace = await plane.createNamespace(`net-${tag}`);
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    // The agents' pods' namespaces, bridges and rules, then their root dirs.
    for (const agent of agents) await agent.cleanUp();
    await plane?.stop();
  }, 120_000);

  const nodes = (): ResourceClient<Node & KubeObject> => plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');

  async function runningPod(name: string): Promise<PodObject> {
    return waitFor(async () => {
      const pod = await pods.namespace(namespace).get(name);
      return pod.status?.phase === 'Running' && pod.status.podIP ? pod : undefined;
    }, 90_000, `pod ${name} Running with an IP`);
  }

  it('gives each pod an IP from its node podCIDR, its hostname, and a path to pods on the other node', async () => {
    const [a, b] = agents as [NodeAgentProcess, NodeAgentProcess];
    const cidrs = await Promise.all(
      agents.map((agent) => waitFor(async () => (await nodes().get(agent.nodeName)).spec?.podCIDR, 60_000, `${agent.nodeName} podCIDR`)),
    );
    const echo = (name: string, nodeName: string, extra: Partial<Pod['spec']> = {}): PodObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: { nodeName, containers: [{ name: 'echo', image: 'k8ts/http-echo', ports: [{ containerPort: 8080 }] }], ...extra },
    });
    await pods.namespace(namespace).create(echo('echo-a', a.nodeName, { hostname: 'web-0', subdomain: 'web' }));
    await pods.namespace(namespace).create(echo('echo-b', b.nodeName));
    const [podA, podB] = [await runningPod('echo-a'), await runningPod('echo-b')];
    const [ipA, ipB] = [podA.status!.podIP!, podB.status!.podIP!];
    expect(ipA).not.toBe(ipB);
    expect(inCidr(ipA, cidrs[0]!)).toBe(true);
    expect(inCidr(ipB, cidrs[1]!)).toBe(true);
    expect(podA.status?.podIPs).toEqual([{ ip: ipA }]);

    // From the node (probes take this path): each pod answers on its own IP with its own hostname
    // (once its server listens: Running says the process started, not that it listens yet).
    const hostnameAt = (ip: string): Promise<string> =>
      waitFor(async () => ((await (await fetch(`http://${ip}:8080/`)).json()) as { hostname: string }).hostname, 60_000, `http://${ip}:8080/`);
    expect(await hostnameAt(ipA)).toBe('web-0');
    expect(await hostnameAt(ipB)).toBe('echo-b');

    // From a pod on node b to the pod on node a, across the two bridges.
    const script = `fetch('http://${ipA}:8080/').then((r) => r.json()).then((j) => console.log('answer:' + j.hostname), (e) => { console.error(e); process.exit(1); })`;
    await pods.namespace(namespace).create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client', namespace },
      spec: { nodeName: b.nodeName, restartPolicy: 'Never', containers: [{ name: 'client', image: 'node', command: ['node', '-e', script] }] },
    });
    const client = await waitFor(async () => {
      const pod = await pods.namespace(namespace).get('client');
      return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? pod : undefined;
    }, 90_000, 'client pod finished');
    const log = await readFile(join(b.rootDir, 'pods', `${namespace}_client_${client.metadata!.uid}`, 'client', '0.log'), 'utf8');
    expect(client.status?.phase, log).toBe('Succeeded');
    expect(log).toContain('answer:web-0');

    // Node b's agent crashes and comes back: its pod keeps its address, a new pod gets another one.
    await b.kill();
    b.launch();
    await b.waitHealthy(60_000);
    await pods.namespace(namespace).create(echo('echo-b2', b.nodeName));
    const ipB2 = (await runningPod('echo-b2')).status!.podIP!;
    expect(ipB2).not.toBe(ipB);
    expect(inCidr(ipB2, cidrs[1]!)).toBe(true);
    expect((await pods.namespace(namespace).get('echo-b')).status?.podIP).toBe(ipB);
    expect(await hostnameAt(ipB)).toBe('echo-b');
    expect(await hostnameAt(ipB2)).toBe('echo-b2');
  });

  it("runs hostNetwork pods on the node's address, and frees pod IPs when pods go", async () => {
    const [a] = agents as [NodeAgentProcess];
    await pods.namespace(namespace).create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'host-pod', namespace },
      spec: { nodeName: a.nodeName, hostNetwork: true, containers: [{ name: 'pause', image: 'k8ts/pause' }] },
    });
    const hostPod = await runningPod('host-pod');
    expect(hostPod.status?.podIP).toBe(hostPod.status?.hostIP);

    for (const pod of (await pods.namespace(namespace).list()).items) {
      await pods.namespace(namespace).delete(pod.metadata!.name!, { gracePeriodSeconds: 1 });
    }
    await waitFor(async () => ((await pods.namespace(namespace).list()).items.length === 0 ? true : undefined), 90_000, 'pods deleted');
    for (const agent of agents) {
      const ipam = join(agent.rootDir, 'network', 'ipam');
      await waitFor(
        async () => ((await readdir(ipam)).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name)).length === 0 ? true : undefined),
        60_000,
        `${agent.nodeName}: every pod IP freed`,
      );
    }
  });
});

function inCidr(ip: string, cidr: string): boolean {
  const toNumber = (text: string): number => text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const [base, prefix] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(prefix));
  return Math.floor(toNumber(ip) / size) === Math.floor(toNumber(base) / size);
}

/** `eventually` for a value: resolves with the first one `read` gives (its failures count as none yet). */
async function waitFor<T>(read: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  let value: T | undefined;
  await eventually(async () => (value = await read().catch(() => undefined)) !== undefined, timeoutMs, what);
  return value as T;
}
