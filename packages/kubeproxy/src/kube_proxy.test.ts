import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ApiClient, SharedInformerFactory, type KubeObject, type ResourceClient } from '@k8ts/client';
import { canUseNamespaces, dummyInterfaceAddresses } from '@k8ts/kubelet';
import { ApiServerProcess, TestCluster, freePorts, waitForLeader } from '@k8ts/testkit';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { Endpoint } from 'kubernetes-types/discovery/v1.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KubeProxy, type EndpointSliceObject, type ServiceObject } from './kube_proxy.js';

/**
 * KubeProxy on a real store and k8ts-apiserver: a NodePort Service whose two EndpointSlices point
 * at two echo servers on 127.0.0.2 and 127.0.0.3 is reachable on its cluster IP (held on a dummy
 * interface named for this run) and on its node port; readiness, bind failures and deletion act.
 */
const support = await canUseNamespaces();
const WAIT_MS = 30_000;
const NODE = 'node-a';

/** Polls `check` until it returns a value other than undefined, or fails with `what` at the deadline. */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Connections a TCP listener accepted so far (undefined: no such TCP listener). */
function accepted(proxy: KubeProxy, key: string): number | undefined {
  const state = proxy.listenerStates().find((listener) => listener.key === key);
  return state?.protocol === 'TCP' ? state.counters.accepted : undefined;
}

/** One TCP request: connect, read what the server says until it closes. */
function askTcp(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no reply from ${host}:${port}`)));
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

function askUdp(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP reply from ${host}:${port}`));
    }, 2_000);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message.toString());
    });
    socket.send('ping', port, host);
  });
}

/** TCP replies seen over `count` requests. */
async function tcpReplies(host: string, port: number, count: number): Promise<string[]> {
  const replies: string[] = [];
  for (let index = 0; index < count; index++) replies.push(await askTcp(host, port));
  return replies;
}

/** An echo backend: TCP says its name and closes; UDP answers each datagram with its name. */
async function startBackend(name: string, host: string, port: number): Promise<{ tcp: Server; udp: UdpSocket }> {
  const tcp = createServer((socket) => socket.end(name));
  await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(port, host, resolve));
  const udp = createSocket('udp4');
  udp.on('message', (_message, from) => udp.send(name, from.port, from.address));
  await new Promise<void>((resolve) => udp.bind(port, host, resolve));
  return { tcp, udp };
}

const endpoint = (ip: string, ready: boolean): Endpoint => ({ addresses: [ip], nodeName: NODE, conditions: { ready, serving: ready, terminating: false } });

describe.skipIf(!support.ok)('KubeProxy against a real apiserver', () => {
  const interfaceName = `kp${randomBytes(4).toString('hex')}`;
  const holder = dummyInterfaceAddresses(interfaceName);
  let cluster: TestCluster;
  let apiserver: ApiServerProcess;
  let client: ApiClient;
  let factory: SharedInformerFactory;
  let proxy: KubeProxy;
  let services: ResourceClient<ServiceObject>;
  let slices: ResourceClient<EndpointSliceObject>;
  let backendPort: number;
  const backends: { tcp: Server; udp: UdpSocket }[] = [];
  let clusterIp: string;
  let nodePort: number;

  beforeAll(async () => {
    cluster = await TestCluster.start('k8ts', { size: 1 });
    await waitForLeader(cluster.endpoints, 20_000);
    const [grpcPort, port] = await freePorts(2);
    backendPort = port as number;
    apiserver = await ApiServerProcess.start(cluster.endpoints, { extraArgs: ['--grpc-port', String(grpcPort)] });
    client = new ApiClient({ addresses: [`127.0.0.1:${grpcPort}`] });
    services = client.resource<ServiceObject>('', 'v1', 'services');
    slices = client.resource<EndpointSliceObject>('discovery.k8s.io', 'v1', 'endpointslices');
    await client.resource<Namespace & KubeObject>('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    backends.push(await startBackend('a', '127.0.0.2', backendPort), await startBackend('b', '127.0.0.3', backendPort));

    factory = new SharedInformerFactory(client);
    proxy = new KubeProxy({
      nodeName: NODE,
      informers: factory,
      addresses: holder,
      nodePortAddresses: ['127.0.0.1'],
      minSyncPeriodMs: 20,
      retryPeriodMs: 100,
      logger: pino({ level: 'silent' }),
    });
    factory.start();
    expect(await proxy.start()).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    await factory?.stop();
    client?.close();
    for (const backend of backends) {
      backend.tcp.close();
      backend.udp.close();
    }
    await holder.remove();
    await apiserver?.stop();
    await cluster?.stop();
  });

  test('a NodePort Service answers on its cluster IP and node port from both endpoints, TCP and UDP', async () => {
    const web = await services.namespace('shop').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'echo', port: 81, protocol: 'UDP' }] },
    });
    clusterIp = web.spec?.clusterIP as string;
    nodePort = web.spec?.ports?.[0]?.nodePort as number;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const ports = [{ name: 'http', port: backendPort, protocol: 'TCP' }, { name: 'echo', port: backendPort, protocol: 'UDP' }];
    for (const [name, ip] of [['web-a', '127.0.0.2'], ['web-b', '127.0.0.3']] as const) {
      await slices.namespace('shop').create({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name, labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        ports,
        endpoints: [endpoint(ip, true)],
      });
    }
    await eventually('four listeners', () => (proxy.counters().listeners === 4 ? true : undefined));
    const bothAnswer = async (ask: () => Promise<string>): Promise<true | undefined> => {
      const seen = new Set<string>();
      for (let index = 0; index < 4; index++) seen.add(await ask().catch(() => 'none'));
      return seen.has('a') && seen.has('b') ? true : undefined;
    };
    await eventually('both endpoints on the cluster IP', () => bothAnswer(() => askTcp(clusterIp, 80)));
    await eventually('both endpoints on the node port', () => bothAnswer(() => askTcp('127.0.0.1', nodePort)));
    // Each new UDP socket is a new flow, spread round robin like connections.
    await eventually('both endpoints over UDP', () => bothAnswer(() => askUdp(clusterIp, 81)));
    expect(proxy.counters()).toMatchObject({ services: 1, listeners: 4, bindFailures: 0 });
  });

  test('an endpoint marked not ready gets no new connections, and the listener is not restarted', async () => {
    const key = `TCP/${clusterIp}:80`;
    const acceptedBefore = accepted(proxy, key) ?? 0;
    expect(acceptedBefore).toBeGreaterThan(0);
    const slice = await slices.namespace('shop').get('web-b');
    await slices.namespace('shop').update({ ...slice, endpoints: [endpoint('127.0.0.3', false)] });
    await eventually('the balancer to drop 127.0.0.3', () => {
      const state = proxy.listenerStates().find((listener) => listener.key === key);
      return state !== undefined && state.endpoints.length === 1 ? state : undefined;
    });
    expect(await tcpReplies(clusterIp, 80, 6)).toEqual(['a', 'a', 'a', 'a', 'a', 'a']);
    expect(await tcpReplies('127.0.0.1', nodePort, 4)).toEqual(['a', 'a', 'a', 'a']);
    // The same listener (its counters kept counting): endpoints changed in place.
    const acceptedAfter = accepted(proxy, key);
    expect(acceptedAfter).toBe(acceptedBefore + 6);
  });

  test('a node port someone else holds is a logged bind failure, retried until it is free; the rest keeps serving', async () => {
    const busyPort = 30000 + ((nodePort - 30000 + 1 + (randomBytes(2).readUInt16BE(0) % 2000)) % 2700);
    const squatter = createServer((socket) => socket.end('squatter'));
    await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(busyPort, '127.0.0.1', resolve));
    try {
      await services.namespace('shop').create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'busy' },
        spec: { type: 'NodePort', selector: { app: 'busy' }, ports: [{ port: 80, nodePort: busyPort }] },
      });
      await slices.namespace('shop').create({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'busy-1', labels: { 'kubernetes.io/service-name': 'busy' } },
        addressType: 'IPv4',
        ports: [{ port: backendPort, protocol: 'TCP' }],
        endpoints: [endpoint('127.0.0.3', true)],
      });
      await eventually('a bind failure', () => (proxy.counters().bindFailures > 0 ? true : undefined));
      expect(await askTcp('127.0.0.1', busyPort)).toBe('squatter');
      expect(await askTcp(clusterIp, 80)).toBe('a');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    await eventually('the node port bound on a later sync', () => proxy.listenerStates().find((state) => state.key === `TCP/127.0.0.1:${busyPort}`));
    expect(await askTcp('127.0.0.1', busyPort)).toBe('b');
  });

  test('deleting the Service closes its listeners and releases its cluster IP', async () => {
    await services.namespace('shop').delete('web');
    await eventually('the web listeners to close', () => (proxy.listenerStates().some((state) => state.servicePort.startsWith('shop/web:')) ? undefined : true));
    await expect(askTcp('127.0.0.1', nodePort)).rejects.toThrow(/ECONNREFUSED/);
    const { stdout } = await promisify(execFile)('ip', ['-j', '-4', 'addr', 'show', 'dev', interfaceName]);
    const held = (JSON.parse(stdout) as { addr_info: { local: string }[] }[]).flatMap((link) => link.addr_info.map((address) => address.local));
    expect(held).not.toContain(clusterIp);
    expect(held).toHaveLength(1); // busy's cluster IP
    expect(proxy.counters()).toMatchObject({ services: 1, listeners: 2 });
  });
});
