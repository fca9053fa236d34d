/**
 * The cluster network over three nodes, each a node agent in a network namespace of its own (a node
 * host on a bridge, as kind's nodes on docker's network): pod IPs across nodes, Services by ClusterIP,
 * DNS name and NodePort through each node's kube-proxy and cluster DNS, readiness, headless Services,
 * hostPort and hostNetwork, and a node cut off for real. Needs root (namespaces, bridges); skipped
 * otherwise.
 */
import { ApiClient, type KubeObject } from '@k8ts/client';
import { canUseNamespaces } from '@k8ts/kubelet';
import {
  ApiServerProcess,
  ControllerManagerProcess,
  NatsServerProcess,
  NodeAgentProcess,
  NodeHostNetwork,
  SchedulerProcess,
  TestCluster,
  getJsonOnce,
  kubectl,
  runCommand,
  waitForLeader,
  type ComponentProcess,
  type NodeHost,
} from '@k8ts/testkit';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Namespace, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from './lifecycle_cluster.js';

const support = await canUseNamespaces();
const tag = randomBytes(3).toString('hex');
const NS = 'net';
const NODES = { client: `a-${tag}`, server1: `b-${tag}`, server2: `c-${tag}` };

type PodObject = Pod & KubeObject;

/**
 * A node script printing, for each url, the answering pod's name or `ERR <code>`: each GET on a
 * connection of its own (fetch would keep one alive, and a Service proxies per connection).
 */
function fetchScript(urls: readonly string[]): string {
  return [
    `const urls = ${JSON.stringify(urls)};`,
    "const one = (url) => new Promise((done) => { const req = require('http').get(url, { agent: false, timeout: 3000 }, (res) => { let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => { try { done(JSON.parse(body).pod); } catch { done('ERR BadBody'); } }); }); req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TimeoutError' }))); req.on('error', (e) => done(`ERR ${e.code ?? e.name}`)); });",
    '(async () => { for (const url of urls) console.log(await one(url)); })();',
  ].join('\n');
}

function echoContainer(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'echo',
    image: 'k8ts/http-echo',
    ports: [{ containerPort: 8080, name: 'http' }],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    ],
    readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
    ...extra,
  };
}

describe.skipIf(!support.ok)('the cluster network over three node hosts', () => {
  let network: NodeHostNetwork;
  const hosts = new Map<string, NodeHost>();
  let store: TestCluster;
  let nats: NatsServerProcess;
  let apiserver: ApiServerProcess;
  let client: ApiClient;
  const components: ComponentProcess[] = [];
  const agents: NodeAgentProcess[] = [];
  let webPods: PodObject[] = [];
  let nodePort = 0;

  const pods = () => client.resource<PodObject>('', 'v1', 'pods').namespace(NS);
  const services = () => client.resource<Service & KubeObject>('', 'v1', 'services').namespace(NS);

  /** Runs `node -e script` in the pod's first container (kubectl exec, through NATS to its node). */
  async function inPod(pod: string, script: string): Promise<string[]> {
    const result = await kubectl(apiserver.kubeconfig, ['exec', '-n', NS, pod, '--', 'node', '-e', script], { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`kubectl exec ${pod} failed (${result.code}): ${result.stderr}`);
    return result.stdout.trim().split('\n');
  }

  async function readyPod(name: string): Promise<PodObject> {
    return waitFor(
      async () => {
        const pod = await pods().get(name);
        return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod : undefined;
      },
      90_000,
      `pod ${name} Ready`,
    );
  }

  function logs(): string {
    return agents.map((agent) => `--- ${agent.nodeName}\n${agent.log.slice(-6000)}`).join('\n');
  }

  beforeAll(async () => {
    network = await NodeHostNetwork.create({ name: `k8cn${tag}`, subnet: `172.27.${randomBytes(1)[0]! % 250}.0/24` });
    store = await TestCluster.start('k8ts', { size: 1 });
    await waitForLeader(store.endpoints, 20_000);
    nats = await NatsServerProcess.start({ host: network.gateway });
    apiserver = await ApiServerProcess.start(store.endpoints, { bindAddress: network.gateway, grpc: true, extraArgs: ['--nats-url', nats.url] });
    const grpc = apiserver.grpcAddress!;
    client = new ApiClient({ addresses: [grpc] });
    components.push(await SchedulerProcess.start([grpc]));
    components.push(
      await ControllerManagerProcess.start([grpc], {
        extraArgs: ['--controllers', 'deployment,replicaset,nodeipam,endpointslice', '--allocate-node-cidrs', '--cluster-cidr', '10.246.0.0/16', '--node-cidr-mask-size', '24'],
      }),
    );
    for (const [role, name] of Object.entries(NODES)) {
      const host = await network.addHost(name);
      hosts.set(name, host);
      agents.push(
        await NodeAgentProcess.start([grpc], {
          nodeName: name,
          host,
          natsUrl: nats.url,
          extraArgs: ['--pod-network', 'namespaced', '--node-labels', `role=${role.startsWith('server') ? 'server' : 'client'}`, '--node-status-update-frequency', '1s', '--node-capacity', 'cpu=4,memory=8Gi'],
        }),
      );
    }
    for (const name of Object.values(NODES)) {
      await waitFor(
        async () => {
          const node = await client.resource<Node & KubeObject>('', 'v1', 'nodes').get(name);
          return node.spec?.podCIDR !== undefined && node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
        },
        90_000,
        `node ${name} Ready with a podCIDR`,
      );
    }
    await client.resource<Namespace & KubeObject>('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });

    // Two replicas of web, one on each server node; a client pod on the client node.
    const web: Deployment & KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            nodeSelector: { role: 'server' },
            affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } },
            containers: [echoContainer() as never],
          },
        },
      },
    };
    await client.resource<Deployment & KubeObject>('apps', 'v1', 'deployments').namespace(NS).create(web);
    await pods().create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: NS }, spec: { nodeSelector: { role: 'client' }, containers: [echoContainer() as never] } });
    const svc = await services().create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: NS },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 as never }] },
    });
    nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    await services().create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web-headless', namespace: NS },
      spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] },
    });
    await readyPod('client');
    webPods = await waitFor(
      async () => {
        const list = (await pods().list({ labelSelector: 'app=web' })).items;
        const ready = list.filter((pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === 2 ? ready : undefined;
      },
      120_000,
      'both web replicas Ready',
    );
  }, 300_000);

  beforeEach(({ onTestFailed }) =>
    onTestFailed(() => {
      process.stderr.write(logs());
    }),
  );

  afterAll(async () => {
    for (const agent of agents) {
      await agent.stop().catch(() => undefined);
      await agent.cleanUp().catch((error: unknown) => process.stderr.write(`${agent.nodeName}: ${(error as Error).message}\n`));
    }
    for (const component of components) await component.stop().catch(() => undefined);
    client?.close();
    await apiserver?.stop();
    await nats?.stop();
    await store?.stop();
    await network?.destroy();
  }, 180_000);

  it('gives pods on different nodes distinct IPs, and they reach each other by IP', async () => {
    const ips = webPods.map((pod) => pod.status?.podIP);
    expect(new Set(webPods.map((pod) => pod.spec?.nodeName))).toEqual(new Set([NODES.server1, NODES.server2]));
    expect(new Set(ips).size).toBe(2);
    const answers = await inPod('client', fetchScript(ips.map((ip) => `http://${ip}:8080/`)));
    expect(answers).toEqual(webPods.map((pod) => pod.metadata?.name));
  }, 120_000);

  it('reaches a Service by its ClusterIP and by web.<ns>.svc.cluster.local, web.<ns> and web, spread over both replicas', async () => {
    const svc = await services().get('web');
    const names = new Set(webPods.map((pod) => pod.metadata?.name));
    for (const host of [svc.spec?.clusterIP, `web.${NS}.svc.cluster.local`, `web.${NS}`, 'web']) {
      const answers = await inPod('client', fetchScript(Array.from({ length: 12 }, () => `http://${host}/`)));
      expect(new Set(answers), `answers through ${host}`).toEqual(names);
    }
  }, 180_000);

  it('reaches a ClusterIP from a node itself, and keeps a client on one replica with sessionAffinity ClientIP', async () => {
    const svc = await services().get('web');
    const node = hosts.get(NODES.client)!;
    const fromNode = await runCommand(node.enter[0]!, [...node.enter.slice(1), process.execPath, '-e', fetchScript(Array.from({ length: 12 }, () => `http://${svc.spec?.clusterIP}/`))]);
    expect(new Set(fromNode.stdout.trim().split('\n'))).toEqual(new Set(webPods.map((pod) => pod.metadata?.name)));

    await services().create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'sticky', namespace: NS },
      spec: { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080 as never }] },
    });
    const answers = await waitFor(
      async () => {
        const list = await inPod('client', fetchScript(Array.from({ length: 12 }, () => 'http://sticky/')));
        return list.every((answer) => !answer.startsWith('ERR')) ? list : undefined;
      },
      30_000,
      'the sticky Service answering',
    );
    expect(new Set(answers).size).toBe(1);
  }, 120_000);

  it('serves a NodePort on every node’s address, to every ready replica', async () => {
    const names = new Set(webPods.map((pod) => pod.metadata?.name));
    for (const host of hosts.values()) {
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const answer = await getJsonOnce<{ pod: string }>(`http://${host.ip}:${nodePort}/`);
        seen.add(answer.pod);
      }
      expect(seen, `NodePort on ${host.name}`).toEqual(names);
    }
  }, 120_000);

  it('stops sending traffic to a replica whose readiness probe fails, and sends it again once ready', async () => {
    const [failing, other] = webPods.map((pod) => pod.metadata!.name!);
    await inPod(failing!, `fetch('http://127.0.0.1:8080/fail-readyz', { method: 'POST' }).then((r) => r.text()).then(console.log)`);
    await waitFor(
      async () => {
        const answers = await inPod('client', fetchScript(Array.from({ length: 10 }, () => 'http://web/')));
        return answers.every((answer) => answer === other) ? true : undefined;
      },
      60_000,
      `traffic only to ${other}`,
    );
    await inPod(failing!, `fetch('http://127.0.0.1:8080/heal-readyz', { method: 'POST' }).then((r) => r.text()).then(console.log)`);
    await waitFor(
      async () => {
        const answers = await inPod('client', fetchScript(Array.from({ length: 12 }, () => 'http://web/')));
        return answers.includes(failing!) ? true : undefined;
      },
      60_000,
      `traffic to ${failing} again`,
    );
  }, 180_000);

  it('resolves a headless Service to its ready pods’ IPs', async () => {
    const [line] = await inPod('client', `require('dns').promises.lookup('web-headless.${NS}.svc.cluster.local', { all: true }).then((all) => console.log(all.map((a) => a.address).sort().join(',')))`);
    expect(line).toBe(webPods.map((pod) => pod.status?.podIP).sort().join(','));
  }, 60_000);

  it('maps a hostPort to its pod, and runs a hostNetwork pod on its node’s address', async () => {
    const server1 = hosts.get(NODES.server1)!;
    const server2 = hosts.get(NODES.server2)!;
    await pods().create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostport', namespace: NS },
      spec: { nodeName: NODES.server1, containers: [echoContainer({ ports: [{ containerPort: 8080, hostPort: 31888 }] }) as never] },
    });
    await pods().create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostnet', namespace: NS },
      spec: { nodeName: NODES.server2, hostNetwork: true, containers: [echoContainer({ args: ['-listen=:18080'], ports: [{ containerPort: 18080 }], readinessProbe: { httpGet: { path: '/readyz', port: 18080 }, periodSeconds: 1 } }) as never] },
    });
    const hostnet = await readyPod('hostnet');
    expect(hostnet.status?.podIP).toBe(server2.ip);
    await readyPod('hostport');
    const viaHostPort = await getJsonOnce<{ pod: string }>(`http://${server1.ip}:31888/`);
    expect(viaHostPort.pod).toBe('hostport');
    const viaHostNetwork = await getJsonOnce<{ pod: string; ip: string }>(`http://${server2.ip}:18080/`);
    expect(viaHostNetwork).toMatchObject({ pod: 'hostnet', ip: server2.ip });
  }, 120_000);

  it('keeps serving other Services beside one whose selector matches nothing', async () => {
    const empty = await services().create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'nothing', namespace: NS }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } });
    const [resolved] = await inPod('client', `require('dns').promises.lookup('nothing').then((a) => console.log(a.address))`);
    expect(resolved).toBe(empty.spec?.clusterIP);
    const answers = await inPod('client', fetchScript(['http://nothing/', 'http://web/']));
    expect(answers[0]).toMatch(/^ERR /);
    expect(webPods.map((pod) => pod.metadata?.name)).toContain(answers[1]);
  }, 60_000);

  it('cuts a node off for real (its link down) and heals it', async () => {
    const target = webPods.find((pod) => pod.spec?.nodeName === NODES.server1)!;
    const url = `http://${target.status?.podIP}:8080/`;
    expect(await inPod('client', fetchScript([url]))).toEqual([target.metadata?.name]);
    const host = hosts.get(NODES.server1)!;
    await network.cut(host);
    try {
      expect((await inPod('client', fetchScript([url])))[0]).toMatch(/^ERR /);
    } finally {
      await network.heal(host);
    }
    await waitFor(async () => ((await inPod('client', fetchScript([url])))[0] === target.metadata?.name ? true : undefined), 60_000, 'pod traffic to the healed node');
  }, 120_000);
});
