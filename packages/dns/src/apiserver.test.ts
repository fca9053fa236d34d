import { createSocket } from 'node:dgram';
import { ApiClient, SharedInformerFactory, type ResourceClient } from '@k8ts/client';
import { ApiServerProcess, TestCluster, freePorts, waitForLeader } from '@k8ts/testkit';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { informerRecordSource, type EndpointSliceObject, type NamespaceObject, type ServiceObject } from './informer_records.js';
import { ClusterDnsServer } from './server.js';

/**
 * Cluster DNS through informers on a real store and k8ts-apiserver: a Service and an
 * EndpointSlice created through the API resolve once the informers have seen them.
 */
const WAIT_MS = 30_000;

function ask(port: number, name: string, type: RecordType): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no answer for ${name}`));
    }, 5_000);
    socket.on('message', (raw) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(raw));
    });
    socket.send(dnsPacket.encode({ type: 'query', id: 9, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] }), port, '127.0.0.1');
  });
}

/** Polls a query until its answers' data equal `expected` (sorted), with a deadline. */
async function resolvesTo(port: number, name: string, type: RecordType, expected: unknown[]): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let last: unknown;
  for (;;) {
    const packet = await ask(port, name, type);
    last = (packet.answers ?? []).map((record) => ('data' in record ? record.data : undefined));
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) throw new Error(`${name} ${type}: ${JSON.stringify(last)}, wanted ${JSON.stringify(expected)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('cluster DNS from informers against a real apiserver', () => {
  let cluster: TestCluster;
  let apiserver: ApiServerProcess;
  let client: ApiClient;
  let factory: SharedInformerFactory;
  let server: ClusterDnsServer;
  let port: number;
  let services: ResourceClient<ServiceObject>;
  let slices: ResourceClient<EndpointSliceObject>;

  beforeAll(async () => {
    cluster = await TestCluster.start('k8ts', { size: 1 });
    await waitForLeader(cluster.endpoints, 20_000);
    const [grpcPort] = await freePorts(1);
    apiserver = await ApiServerProcess.start(cluster.endpoints, { extraArgs: ['--grpc-port', String(grpcPort)] });
    client = new ApiClient({ addresses: [`127.0.0.1:${grpcPort}`] });
    services = client.resource<ServiceObject>('', 'v1', 'services');
    slices = client.resource<EndpointSliceObject>('discovery.k8s.io', 'v1', 'endpointslices');
    await client.resource<NamespaceObject>('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });

    factory = new SharedInformerFactory(client);
    const records = informerRecordSource({
      services: factory.informerFor<ServiceObject>('', 'v1', 'services').lister(),
      endpointSlices: factory.informerFor<EndpointSliceObject>('discovery.k8s.io', 'v1', 'endpointslices').lister(),
      namespaces: factory.informerFor<NamespaceObject>('', 'v1', 'namespaces').lister(),
    });
    factory.start();
    expect(await factory.waitForCacheSync()).toBe(true);
    server = new ClusterDnsServer({ address: '127.0.0.1', port: 0, records, upstream: [] });
    port = (await server.start()).port;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await factory?.stop();
    client?.close();
    await apiserver?.stop();
    await cluster?.stop();
  });

  test('a Service gets its allocated cluster IP; a headless one its endpoints, by name and by hostname', async () => {
    expect((await ask(port, 'web.shop.svc.cluster.local', 'A')).answers).toEqual([]);
    const web = await services.namespace('shop').create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } });
    const clusterIp = web.spec?.clusterIP as string;
    expect(clusterIp).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    await resolvesTo(port, 'web.shop.svc.cluster.local', 'A', [clusterIp]);
    await resolvesTo(port, '_http._tcp.web.shop.svc.cluster.local', 'SRV', [{ priority: 0, weight: 100, port: 80, target: 'web.shop.svc.cluster.local' }]);

    await services.namespace('shop').create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] } });
    await slices.namespace('shop').create({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4',
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.244.1.10'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.244.2.11'], hostname: 'db-1', conditions: { ready: false } },
      ],
    });
    await resolvesTo(port, 'db.shop.svc.cluster.local', 'A', ['10.244.1.10']);
    await resolvesTo(port, 'db-0.db.shop.svc.cluster.local', 'A', ['10.244.1.10']);
    expect((await ask(port, 'db-1.db.shop.svc.cluster.local', 'A')) as DecodedPacket & { rcode: string }).toMatchObject({ rcode: 'NXDOMAIN' });

    await services.namespace('shop').delete('web');
    const deadline = Date.now() + WAIT_MS;
    while (((await ask(port, 'web.shop.svc.cluster.local', 'A')) as DecodedPacket & { rcode: string }).rcode !== 'NXDOMAIN') {
      if (Date.now() > deadline) throw new Error('web still resolves after its deletion');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 120_000);
});
