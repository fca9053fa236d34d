import { ApiError } from '@k8ts/apimachinery';
import { ApiClient, isAlreadyExists, isConflict, isNotFound, type KubeObject, type ResourceClient, type WatchEvent } from '@k8ts/client';
import { TestCluster, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcApiServer, collect } from './harness.js';

/**
 * The gRPC API through @k8ts/client against a real store (three k8ts-store members) and an
 * in-process API server: each verb answers as REST does, errors included.
 */
interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
interface Pod extends KubeObject {
  spec?: { nodeName?: string; containers: { name: string; image: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

const configMap = (namespace: string, name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace, name, labels },
  data,
});

const pod = (namespace: string, name: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name },
  spec: { containers: [{ name: 'main', image: 'busybox' }] },
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected a rejection');
}

describe('ApiClient against a real store and apiserver', () => {
  let store: TestCluster;
  let replica: GrpcApiServer;
  let client: ApiClient;
  let configMaps: ResourceClient<ConfigMap>;
  let pods: ResourceClient<Pod>;

  beforeAll(async () => {
    store = await TestCluster.start('k8ts');
    await waitForLeader(store.endpoints);
    const started = await GrpcApiServer.start(store.endpoints, { bookmarkIntervalMs: 200 });
    replica = started.replica;
    client = new ApiClient({ addresses: [started.address], fieldManager: 'client-test' });
    configMaps = client.resource<ConfigMap>('', 'v1', 'configmaps');
    pods = client.resource<Pod>('', 'v1', 'pods');
    const namespaces = client.resource<KubeObject>('', 'v1', 'namespaces');
    for (const name of ['verbs', 'watch', 'bind', 'sweep']) await namespaces.create({ metadata: { name } });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    replica?.stop();
    await store?.stop();
  });

  test('create, get, update, and the errors REST gives: NotFound, AlreadyExists, Conflict, Invalid', async () => {
    const created = await configMaps.create(configMap('verbs', 'a', { k: '1' }));
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.managedFields?.[0]?.manager).toBe('client-test');
    expect((await configMaps.namespace('verbs').get('a')).data).toEqual({ k: '1' });

    const missing = await rejection(configMaps.namespace('verbs').get('nope'));
    expect([missing.reason, missing.code, missing.message]).toEqual(['NotFound', 404, 'configmaps "nope" not found']);
    expect(isNotFound(missing)).toBe(true);
    expect(isAlreadyExists(await rejection(configMaps.create(configMap('verbs', 'a'))))).toBe(true);

    const updated = await configMaps.update({ ...created, data: { k: '2' } });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    // The same update from the stale copy: optimistic concurrency refuses it.
    const stale = await rejection(configMaps.update({ ...created, data: { k: '3' } }));
    expect([stale.reason, stale.code]).toEqual(['Conflict', 409]);
    expect(stale.message).toContain('the object has been modified');
    expect(isConflict(stale)).toBe(true);

    const invalid = await rejection(configMaps.create(configMap('verbs', 'Bad_Name')));
    expect([invalid.reason, invalid.code]).toEqual(['Invalid', 422]);
    expect(invalid.status.details?.causes?.[0]?.field).toBe('metadata.name');
    const unknown = await rejection(client.resource('', 'v1', 'widgets').list());
    expect(unknown.code).toBe(404);
  });

  test('patch with each patch type, and delete with preconditions', async () => {
    const cms = configMaps.namespace('verbs');
    await cms.create(configMap('verbs', 'p', { a: '1' }));
    expect((await cms.patch('p', 'merge', { data: { b: '2' } })).data).toEqual({ a: '1', b: '2' });
    expect((await cms.patch('p', 'json', [{ op: 'remove', path: '/data/a' }])).data).toEqual({ b: '2' });
    expect((await cms.patch('p', 'strategic', { metadata: { labels: { tier: 'x' } } })).metadata?.labels).toEqual({ tier: 'x' });
    const applied = await cms.patch('p', 'apply', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p' }, data: { c: '3' } }, { fieldManager: 'applier' });
    expect(applied.data).toMatchObject({ c: '3' });
    const badPatch = await rejection(cms.patch('p', 'json', [{ op: 'test', path: '/data/c', value: 'other' }]));
    expect(badPatch.code).toBeGreaterThanOrEqual(400);

    const stale = await rejection(cms.delete('p', { preconditions: { resourceVersion: '1' } }));
    expect(stale.reason).toBe('Conflict');
    const dryRun = await cms.delete('p', { dryRun: true });
    expect(dryRun.deleted).toBe(true);
    expect((await cms.get('p')).metadata?.name).toBe('p');
    const deleted = await cms.delete('p');
    expect(deleted).toMatchObject({ deleted: true, object: { kind: 'ConfigMap', metadata: { name: 'p' } } });
    expect(isNotFound(await rejection(cms.get('p')))).toBe(true);
  });

  test('list pages at one resourceVersion, with label selectors', async () => {
    const cms = configMaps.namespace('verbs');
    for (const name of ['l1', 'l2', 'l3']) await cms.create(configMap('verbs', name, {}, { group: 'list', name }));
    const first = await cms.list({ labelSelector: 'group=list', limit: 2 });
    expect(first.continue).toBeTruthy();
    const second = await cms.list({ labelSelector: 'group=list', limit: 2, ...(first.continue ? { continue: first.continue } : {}) });
    expect(second.resourceVersion).toBe(first.resourceVersion);
    expect([...first.items, ...second.items].map((item) => item.metadata?.name)).toEqual(['l1', 'l2', 'l3']);
    expect((await cms.list({ labelSelector: 'group=list,name!=l2' })).items.map((item) => item.metadata?.name)).toEqual(['l1', 'l3']);
    expect((await cms.list({ fieldSelector: 'metadata.name=l3' })).items).toHaveLength(1);
  });

  test('updateStatus changes only status; update leaves status alone', async () => {
    const p = pods.namespace('verbs');
    const created = await p.create(pod('verbs', 'st'));
    const withStatus = await p.updateStatus({ ...created, status: { phase: 'Running' } });
    expect(withStatus.status?.phase).toBe('Running');
    const relabelled = await p.update({ ...withStatus, metadata: { ...withStatus.metadata, labels: { a: 'b' } }, status: { phase: 'Failed' } });
    expect(relabelled.metadata?.labels).toEqual({ a: 'b' });
    expect(relabelled.status?.phase).toBe('Running');
  });

  test('bind puts a pod on a node once; a pod that has a node is refused with Conflict', async () => {
    const p = pods.namespace('bind');
    await p.create(pod('bind', 'web'));
    await p.bind('web', 'node-1');
    const bound = await p.get('web');
    expect(bound.spec?.nodeName).toBe('node-1');
    expect(bound.status?.conditions?.find((condition) => condition.type === 'PodScheduled')?.status).toBe('True');
    const again = await rejection(p.bind('web', 'node-2'));
    expect([again.reason, again.code]).toEqual(['Conflict', 409]);
    expect(again.message).toContain('already assigned to node "node-1"');
    expect((await p.get('web')).spec?.nodeName).toBe('node-1');
  });

  test('a watch resumed from a resourceVersion gets exactly the events after it, in order', async () => {
    const cms = configMaps.namespace('watch');
    const start = (await cms.list()).resourceVersion;
    const a = await cms.create(configMap('watch', 'a'));
    await cms.update({ ...a, data: { v: '2' } });
    await cms.create(configMap('watch', 'b'));
    await cms.delete('a');
    // A last write marks the end: what a watch delivers before it is all it delivers of the above.
    await cms.create(configMap('watch', 'end'));
    const names = (events: WatchEvent<ConfigMap>[]): string[] => events.map((event) => `${event.type} ${event.object.metadata?.name}`);
    const upTo = (marker: string) => (events: WatchEvent<ConfigMap>[]) => names(events).includes(`ADDED ${marker}`);
    // The window only stops a stuck wait; each collect ends at its marker.
    const all = await collect(cms.watch({ resourceVersion: start }), 30_000, upTo('end'));
    expect(names(all)).toEqual(['ADDED a', 'MODIFIED a', 'ADDED b', 'DELETED a', 'ADDED end']);
    const versions = all.map((event) => Number(event.object.metadata?.resourceVersion));
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);

    // Resumed after the first event: the ones after it, nothing twice.
    const resumed = await collect(cms.watch({ resourceVersion: all[0]?.object.metadata?.resourceVersion ?? '' }), 30_000, upTo('end'));
    expect(names(resumed)).toEqual(['MODIFIED a', 'ADDED b', 'DELETED a', 'ADDED end']);

    // "" starts with the current objects as ADDED; a write made once it is open comes after them
    // (or, written before the watch took its start, among them: named to sort last either way).
    const [fresh] = await Promise.all([collect(cms.watch(), 30_000, upTo('later')), cms.create(configMap('watch', 'later'))]);
    expect(names(fresh)).toEqual(['ADDED b', 'ADDED end', 'ADDED later']);
  });

  test('bookmarks arrive when asked, carrying a resourceVersion to resume from', async () => {
    const watch = configMaps.namespace('watch').watch({ resourceVersion: (await configMaps.list()).resourceVersion, allowBookmarks: true });
    const events = await collect(watch, 30_000, (seen) => seen.some((event) => event.type === 'BOOKMARK'));
    const bookmark = events.find((event) => event.type === 'BOOKMARK');
    expect(bookmark?.object.kind).toBe('ConfigMap');
    expect(Number(bookmark?.object.metadata?.resourceVersion)).toBeGreaterThan(0);
  });

  test('a watch from a version older than the server holds ends with 410 Expired', async () => {
    const old = (await configMaps.list()).resourceVersion;
    await configMaps.create(configMap('watch', 'after-old'));
    // A replica started now has no history before its start: the old version is too old for it.
    const late = await GrpcApiServer.start(store.endpoints);
    const lateClient = new ApiClient({ addresses: [late.address] });
    try {
      const error = await rejection(collect(lateClient.resource<ConfigMap>('', 'v1', 'configmaps').watch({ resourceVersion: old }), 30_000));
      expect([error.reason, error.code]).toEqual(['Expired', 410]);
      expect(error.message).toContain('too old resource version');
    } finally {
      lateClient.close();
      late.replica.stop();
    }
  });

  test('deleteCollection deletes what the selectors pick; a selected page is filled to its limit', async () => {
    const sweep = configMaps.namespace('sweep');
    for (let i = 0; i < 6; i++) await sweep.create(configMap('sweep', `s${i}`, {}, { keep: i % 2 === 0 ? 'no' : 'yes' }));
    const page = await sweep.list({ labelSelector: 'keep=no', limit: 2 });
    expect(page.items.map((item) => item.metadata?.name)).toEqual(['s0', 's2']);
    expect(page.continue).toBeDefined();
    const deleted = await sweep.deleteCollection({ labelSelector: 'keep=no' });
    expect(deleted.map((item) => item.metadata?.name).sort()).toEqual(['s0', 's2', 's4']);
    expect((await sweep.list()).items.map((item) => item.metadata?.name)).toEqual(['s1', 's3', 's5']);
  });
});
