import { findResource } from '@k8ts/apimachinery';
import { ApiClient, LeaderElector, SharedInformer, SharedInformerFactory, type KubeObject } from '@k8ts/client';
import { TestCluster, freePorts, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcApiServer, eventually } from './harness.js';

/**
 * Informers, failover between API servers and leader election against a real store (three
 * k8ts-store members) and in-process API server replicas.
 */
interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

const configMap = (namespace: string, name: string, data: Record<string, string> = {}): ConfigMap => ({ metadata: { namespace, name }, data });

describe('informers, failover and leader election', () => {
  let store: TestCluster;
  let first: GrpcApiServer;
  let firstAddress = '';
  const extra: GrpcApiServer[] = [];
  const clients: ApiClient[] = [];
  const newClient = (...addresses: string[]): ApiClient => {
    const client = new ApiClient({ addresses, callTimeoutMs: 5000 });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    store = await TestCluster.start('k8ts');
    await waitForLeader(store.endpoints);
    ({ replica: first, address: firstAddress } = await GrpcApiServer.start(store.endpoints));
    const namespaces = newClient(firstAddress).resource<KubeObject>('', 'v1', 'namespaces');
    for (const name of ['informed', 'relist', 'failover']) await namespaces.create({ metadata: { name } });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const replica of extra) replica.stop();
    first?.stop();
    await store?.stop();
  });

  test('an informer sees create, update and delete in order, its cache already current in each handler', async () => {
    const client = newClient(firstAddress);
    const factory = new SharedInformerFactory(client);
    const informer = factory.informerFor<ConfigMap>('', 'v1', 'configmaps', { fieldSelector: 'metadata.namespace=informed' });
    expect(factory.informerFor<ConfigMap>('', 'v1', 'configmaps', { fieldSelector: 'metadata.namespace=informed' })).toBe(informer);
    const lister = informer.lister().namespace('informed');
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (object) => seen.push(`add ${object.metadata?.name} ${lister.get(object.metadata?.name ?? '')?.metadata?.resourceVersion === object.metadata?.resourceVersion}`),
      onUpdate: (old, object) => seen.push(`update ${old.data?.['v']}->${object.data?.['v']} ${lister.get(object.metadata?.name ?? '') === object}`),
      onDelete: (object) => seen.push(`delete ${object.metadata?.name} ${lister.get(object.metadata?.name ?? '') === undefined}`),
    });
    const cms = client.resource<ConfigMap>('', 'v1', 'configmaps').namespace('informed');
    await cms.create(configMap('informed', 'before', { v: '0' }));
    factory.start();
    expect(await factory.waitForCacheSync()).toBe(true);
    expect(informer.hasSynced()).toBe(true);

    const created = await cms.create(configMap('informed', 'x', { v: '1' }));
    await cms.update({ ...created, data: { v: '2' } });
    await cms.delete('x');
    await eventually(() => seen.length === 4, 5000, 'four events');
    expect(seen).toEqual(['add before true', 'add x true', 'update 1->2 true', 'delete x true']);
    expect(lister.list().map((object) => object.metadata?.name)).toEqual(['before']);
    await factory.stop();
  });

  test('unary calls fail over to the next apiserver when one is down', async () => {
    const { replica: second, address } = await GrpcApiServer.start(store.endpoints);
    extra.push(second);
    const [deadPort] = await freePorts(1);
    const client = newClient(`127.0.0.1:${deadPort}`, address);
    const cms = client.resource<ConfigMap>('', 'v1', 'configmaps').namespace('failover');
    await cms.create(configMap('failover', 'one'));
    expect(client.currentAddress()).toBe(address);
    expect((await cms.get('one')).metadata?.name).toBe('one');
  });

  test('an informer whose apiserver goes away resumes on another, relisting on 410', async () => {
    // The informer watches through A; B is started only after changes the informer cannot replay.
    const { replica: a, address: aAddress } = await GrpcApiServer.start(store.endpoints);
    extra.push(a);
    const [bPort = 0] = await freePorts(1);
    const client = newClient(aAddress, `127.0.0.1:${bPort}`);
    const informer = new SharedInformer(client.resource<ConfigMap>('', 'v1', 'configmaps').namespace('relist'), { backoffMaxMs: 200 });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (object) => seen.push(`add ${object.metadata?.name}`),
      onUpdate: (_old, object) => seen.push(`update ${object.metadata?.name}`),
      onDelete: (object) => seen.push(`delete ${object.metadata?.name}`),
    });
    const direct = client.resource<ConfigMap>('', 'v1', 'configmaps').namespace('relist');
    await direct.create(configMap('relist', 'kept'));
    await direct.create(configMap('relist', 'gone'));
    informer.run();
    await informer.waitForSync();
    expect(seen.sort()).toEqual(['add gone', 'add kept']);

    a.shutDoors();
    // While no apiserver answers, the objects change in the store (written through A's replica).
    const configMaps = findResource('', 'v1', 'configmaps');
    if (configMaps === undefined) throw new Error('no configmaps resource');
    await a.api.service.delete(configMaps, 'relist', 'gone');
    await a.api.service.create(configMaps, 'relist', configMap('relist', 'new'));
    const b = await GrpcApiServer.start(store.endpoints, { port: bPort });
    extra.push(b.replica);

    await eventually(() => seen.length === 4, 8000, 'the relist');
    expect(seen.slice(2).sort()).toEqual(['add new', 'delete gone']);
    expect(client.currentAddress()).toBe(b.address);
    expect(informer.lister().list().map((object) => object.metadata?.name).sort()).toEqual(['kept', 'new']);

    // And it keeps watching through B.
    await newClient(b.address).resource<ConfigMap>('', 'v1', 'configmaps').create(configMap('relist', 'later'));
    await eventually(() => seen.includes('add later'), 5000, 'a change after the failover');
    await informer.stop();
  });

  describe('leader election', () => {
    const timings = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 };

    function elector(client: ApiClient, name: string, identity: string, log: string[]): LeaderElector {
      return new LeaderElector({
        client,
        namespace: 'kube-system',
        name,
        identity,
        ...timings,
        callbacks: {
          onStartedLeading: () => log.push(`${identity} started`),
          onStoppedLeading: () => log.push(`${identity} stopped`),
          onNewLeader: (leader) => log.push(`${identity} sees ${leader}`),
        },
      });
    }

    const leases = () => newClient(firstAddress).resource<Lease>('coordination.k8s.io', 'v1', 'leases').namespace('kube-system');
    const lease = (name: string): Promise<Lease> => leases().get(name);
    const renewedAtMs = async (name: string): Promise<number> => Date.parse((await lease(name)).spec?.renewTime ?? '');

    /** Every holderIdentity the Lease is written with from `resourceVersion` on, consecutive repeats dropped. */
    function watchHolders(name: string, resourceVersion: string): { holders: string[]; close(): Promise<void> } {
      const holders: string[] = [];
      const watch = leases().watch({ resourceVersion });
      const reading = (async () => {
        for await (const event of watch) {
          if (event.object.metadata?.name !== name) continue;
          const holder = event.object.spec?.holderIdentity ?? '';
          if (holders.at(-1) !== holder) holders.push(holder);
        }
      })().catch(() => undefined); // closing the watch ends it; what it saw is what the test checks
      return {
        holders,
        close: async () => {
          watch.close();
          await reading;
        },
      };
    }

    test('one of two candidates leads; stopping it releases the Lease and the other takes over from the released record', async () => {
      const log: string[] = [];
      const one = elector(newClient(firstAddress), 'stop-test', 'one', log);
      void one.run();
      await eventually(() => one.isLeader(), 15_000, 'one leading');
      const held = await lease('stop-test');
      const holders = watchHolders('stop-test', held.metadata?.resourceVersion ?? '');
      const two = elector(newClient(firstAddress), 'stop-test', 'two', log);
      void two.run();
      await eventually(() => log.includes('two sees one'), 15_000, 'two observing one');
      // One keeps renewing: wait (by the Lease's own renewTime) until it has held the Lease for more
      // than a lease duration past two's arrival, which two would take over if one's renewals did not count.
      const seenAtMs = await renewedAtMs('stop-test');
      await eventually(async () => (await renewedAtMs('stop-test')) > seenAtMs + 1.5 * timings.leaseDurationMs, 15_000, 'one renewing for more than a lease duration');
      expect(two.isLeader()).toBe(false);
      expect((await lease('stop-test')).spec).toMatchObject({ holderIdentity: 'one', leaseDurationSeconds: 1, leaseTransitions: 0 });

      const stoppedAt = Date.now();
      await one.stop();
      await eventually(() => two.isLeader(), 15_000, 'two leading');
      // A figure, not a claim: the Lease's records below show the takeover came through the release.
      console.log(`figure: leader election handover (leader stopped → other leading, lease ${timings.leaseDurationMs} ms): ${Date.now() - stoppedAt} ms`);
      const spec = (await lease('stop-test')).spec;
      expect(spec).toMatchObject({ holderIdentity: 'two', leaseTransitions: 1 });
      expect(spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(log.indexOf('one stopped')).toBeLessThan(log.indexOf('two started'));
      // One's renewals, then its release (an empty holder), then two: two never took the Lease from a holder.
      await eventually(() => holders.holders.includes('two'), 15_000, 'the watch seeing two hold the Lease');
      await holders.close();
      expect(holders.holders).toEqual(['one', '', 'two']);
      await two.stop();
    });

    test('a leader cut off from the apiservers stops leading before the other takes over', async () => {
      const log: string[] = [];
      const door = await GrpcApiServer.start(store.endpoints);
      extra.push(door.replica);
      const cut = elector(newClient(door.address), 'cut-test', 'cut', log);
      void cut.run();
      await eventually(() => cut.isLeader(), 15_000, 'cut leading');
      const other = elector(newClient(firstAddress), 'cut-test', 'other', log);
      void other.run();
      await eventually(() => log.includes('other sees cut'), 15_000, 'other observing');

      // Close only the apiserver the leader uses: its renewals fail; the store and the other candidate are fine.
      door.replica.shutDoors();
      const cutAt = Date.now();
      await eventually(() => other.isLeader(), 15_000, 'other leading');
      // A figure, not a claim: how fast depends on the machine as much as on the timings.
      console.log(`figure: leader election takeover from a cut-off leader (lease ${timings.leaseDurationMs} ms): ${Date.now() - cutAt} ms`);
      expect(log.indexOf('cut stopped')).toBeGreaterThanOrEqual(0);
      expect(log.indexOf('cut stopped')).toBeLessThan(log.indexOf('other started'));
      await other.stop();
      await cut.stop();
    });
  });
});
