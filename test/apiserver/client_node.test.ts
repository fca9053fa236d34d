import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { ApiServerProcess, TestCluster, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * The official JavaScript client, @kubernetes/client-node 1.4, against two k8ts-apiserver replicas
 * (different ports) over three k8ts-store members. Expectations are kube-apiserver's: the objects it
 * returns, the Status bodies of its errors, and watch events written through the other replica.
 */

const NAMESPACE = 'client-node';

interface StatusBody {
  kind?: string;
  apiVersion?: string;
  status?: string;
  reason?: string;
  code?: number;
  message?: string;
  details?: { name?: string; kind?: string; group?: string };
}

/** Runs `call`, expects it to fail with an ApiException of `code`, and returns the parsed Status body. */
async function expectStatus(call: () => Promise<unknown>, code: number): Promise<StatusBody> {
  let caught: unknown;
  try {
    await call();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the call should have failed').toBeInstanceOf(ApiException);
  const error = caught as ApiException<unknown>;
  expect(error.code).toBe(code);
  // client-node 1.x keeps an unexpected answer's body as text.
  return (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as StatusBody;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/**
 * The ApiServerProcess kubeconfig, loaded as is; client-node 1.x refuses an http:// server unless
 * the cluster says insecure-skip-tls-verify (kubectl does not), so that one field is set here.
 */
function loadPlainHttpConfig(path: string): KubeConfig {
  const loaded = new KubeConfig();
  loaded.loadFromFile(path);
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: loaded.clusters.map((cluster) => ({ ...cluster, skipTLSVerify: true })),
    contexts: loaded.contexts,
    users: loaded.users,
    currentContext: loaded.currentContext,
  });
  return config;
}

const configMap = (name: string, labels: Record<string, string>, data: Record<string, string>): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

const DEPLOYMENT: V1Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
    },
  },
};

describe('@kubernetes/client-node against two apiservers over k8ts-store', () => {
  let store: TestCluster;
  let one: ApiServerProcess;
  let two: ApiServerProcess;
  let core: CoreV1Api; // through apiserver one
  let apps: AppsV1Api; // through apiserver one
  let coreTwo: CoreV1Api; // through apiserver two
  let config: KubeConfig; // apiserver one

  beforeAll(async () => {
    store = await TestCluster.start('k8ts');
    await waitForLeader(store.endpoints);
    [one, two] = await Promise.all([ApiServerProcess.start(store.endpoints), ApiServerProcess.start(store.endpoints)]);
    config = loadPlainHttpConfig(one.kubeconfig);
    const configTwo = loadPlainHttpConfig(two.kubeconfig);
    core = config.makeApiClient(CoreV1Api);
    apps = config.makeApiClient(AppsV1Api);
    coreTwo = configTwo.makeApiClient(CoreV1Api);
  }, 60_000);

  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await store?.stop();
  });

  test('the KubeConfig from the kubeconfig file points at apiserver one', () => {
    expect(config.getCurrentCluster()?.server).toBe(one.url);
    expect(config.getCurrentContext()).toBe('k8ts');
  });

  test('create a namespace, configmaps and a deployment; read them back defaulted', async () => {
    const namespace = await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } } });
    expect(namespace.metadata?.name).toBe(NAMESPACE);
    expect(namespace.status?.phase).toBe('Active');

    const created = await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('alpha', { tier: 'backend' }, { a: '1' }) });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('beta', { tier: 'backend' }, { b: '2' }) });
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('gamma', { tier: 'frontend' }, { c: '3' }) });

    const duplicate = await expectStatus(() => core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('alpha', {}, {}) }), 409);
    expect(duplicate).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'configmaps "alpha" already exists' });

    const deployment = await apps.createNamespacedDeployment({ namespace: NAMESPACE, body: DEPLOYMENT });
    expect(deployment.metadata?.generation).toBe(1);

    // Read back through the other replica.
    const read = await coreTwo.readNamespacedConfigMap({ name: 'alpha', namespace: NAMESPACE });
    expect(read).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'alpha', namespace: NAMESPACE, uid: created.metadata?.uid }, data: { a: '1' } });
    const readDeployment = await apps.readNamespacedDeployment({ name: 'web', namespace: NAMESPACE });
    expect(readDeployment.kind).toBe('Deployment');
    expect(readDeployment.spec?.strategy?.type).toBe('RollingUpdate');
    expect(readDeployment.spec?.revisionHistoryLimit).toBe(10);
    expect(readDeployment.spec?.template.spec?.restartPolicy).toBe('Always');
    expect(readDeployment.spec?.template.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(readDeployment.spec?.template.spec?.containers[0]?.ports?.[0]?.protocol).toBe('TCP');
  });

  test('list with a label selector', async () => {
    const backend = await core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: 'tier=backend' });
    expect(backend.kind).toBe('ConfigMapList');
    expect(backend.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(backend.items.map((item) => item.metadata?.name).sort()).toEqual(['alpha', 'beta']);
    const notBackend = await coreTwo.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: 'tier notin (backend)' });
    // kube-root-ca.crt is not published here (no controller-manager yet), so only gamma has no backend tier.
    expect(notBackend.items.map((item) => item.metadata?.name).filter((name) => name !== 'kube-root-ca.crt')).toEqual(['gamma']);
    const existing = await core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: 'tier' });
    expect(existing.items).toHaveLength(3);
  });

  test('strategic merge patch on a deployment merges containers by name', async () => {
    const patched = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: NAMESPACE, body: { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.28' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const containers = patched.spec?.template.spec?.containers ?? [];
    expect(containers).toHaveLength(1);
    expect(containers[0]).toMatchObject({ name: 'nginx', image: 'nginx:1.28' });
    expect(containers[0]?.ports).toHaveLength(1); // kept: merged by name, not replaced
    expect(patched.metadata?.generation).toBe(2);
  });

  test('JSON merge patch replaces lists and removes keys set to null; JSON patch is the default type', async () => {
    const merged = await core.patchNamespacedConfigMap(
      { name: 'alpha', namespace: NAMESPACE, body: { metadata: { labels: { extra: 'yes' } }, data: { a: null, z: '26' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ z: '26' });
    expect(merged.metadata?.labels).toEqual({ tier: 'backend', extra: 'yes' });

    // A merge patch replaces a list whole (no strategic merge by name).
    const deployment = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: NAMESPACE, body: { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.29' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.29');
    expect(deployment.spec?.template.spec?.containers[0]?.ports).toBeUndefined();

    // With no header the client sends its first patch type, application/json-patch+json.
    const jsonPatched = await core.patchNamespacedConfigMap({ name: 'alpha', namespace: NAMESPACE, body: [{ op: 'add', path: '/data/y', value: '25' }] });
    expect(jsonPatched.data).toEqual({ y: '25', z: '26' });
  });

  test('replace with a stale resourceVersion is a 409 Conflict with a Status body', async () => {
    const stale = await core.readNamespacedConfigMap({ name: 'beta', namespace: NAMESPACE });
    const fresh = await coreTwo.replaceNamespacedConfigMap({ name: 'beta', namespace: NAMESPACE, body: { ...stale, data: { b: 'fresh' } } });
    expect(Number(fresh.metadata?.resourceVersion)).toBeGreaterThan(Number(stale.metadata?.resourceVersion));

    const status = await expectStatus(() => core.replaceNamespacedConfigMap({ name: 'beta', namespace: NAMESPACE, body: { ...stale, data: { b: 'stale' } } }), 409);
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Operation cannot be fulfilled on configmaps "beta": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'beta', kind: 'configmaps' },
      code: 409,
    });
    expect((await core.readNamespacedConfigMap({ name: 'beta', namespace: NAMESPACE })).data).toEqual({ b: 'fresh' });
  });

  test('delete, then reading the object is a 404 NotFound Status', async () => {
    const deleted = await core.deleteNamespacedConfigMap({ name: 'gamma', namespace: NAMESPACE });
    expect(deleted).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'gamma', kind: 'configmaps' } });

    const missing = await expectStatus(() => coreTwo.readNamespacedConfigMap({ name: 'gamma', namespace: NAMESPACE }), 404);
    expect(missing).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'configmaps "gamma" not found',
      details: { name: 'gamma', kind: 'configmaps' },
    });
    const missingDeployment = await expectStatus(() => apps.readNamespacedDeployment({ name: 'nowhere', namespace: NAMESPACE }), 404);
    expect(missingDeployment).toMatchObject({ reason: 'NotFound', message: 'deployments.apps "nowhere" not found', details: { name: 'nowhere', group: 'apps', kind: 'deployments' } });
    await expectStatus(() => core.deleteNamespacedConfigMap({ name: 'gamma', namespace: NAMESPACE }), 404);
  });

  test('Watch through apiserver one sees ADDED, MODIFIED, DELETED written through apiserver two', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: NAMESPACE });
    const events: { type: string; name: string; resourceVersion: string; data: Record<string, string> | undefined }[] = [];
    let ended: unknown = 'open';
    const controller = await new Watch(config).watch(
      `/api/v1/namespaces/${NAMESPACE}/configmaps`,
      { resourceVersion: list.metadata?.resourceVersion },
      (type, object: V1ConfigMap) => events.push({ type, name: object.metadata?.name ?? '', resourceVersion: object.metadata?.resourceVersion ?? '', data: object.data }),
      (error: unknown) => (ended = error),
    );
    try {
      await coreTwo.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('watched', { tier: 'watched' }, { v: '1' }) });
      await coreTwo.patchNamespacedConfigMap(
        { name: 'watched', namespace: NAMESPACE, body: { data: { v: '2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await coreTwo.deleteNamespacedConfigMap({ name: 'watched', namespace: NAMESPACE });
      await waitFor('three watch events', () => events.length >= 3);
      expect(ended).toBe('open');
      expect(events.map(({ type, name, data }) => ({ type, name, data }))).toEqual([
        { type: 'ADDED', name: 'watched', data: { v: '1' } },
        { type: 'MODIFIED', name: 'watched', data: { v: '2' } },
        { type: 'DELETED', name: 'watched', data: { v: '2' } },
      ]);
      const versions = events.map((event) => Number(event.resourceVersion));
      expect(versions[0]).toBeGreaterThan(Number(list.metadata?.resourceVersion));
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(3);
    } finally {
      controller.abort();
    }
  });

  test('an informer (ListWatch) lists, then follows changes made through the other apiserver', async () => {
    const path = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
    const informer = makeInformer<V1ConfigMap>(config, path, () => core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: 'tier=informed' }), 'tier=informed');
    const seen: string[] = [];
    const errors: unknown[] = [];
    const record = (verb: string) => (object: KubernetesObject) => seen.push(`${verb} ${object.metadata?.name ?? ''}`);
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    informer.on('error', (error: unknown) => errors.push(error));
    await coreTwo.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('listed', { tier: 'informed' }, { n: '1' }) });
    await informer.start();
    try {
      expect(seen).toEqual(['add listed']);

      await coreTwo.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('informed', { tier: 'informed' }, { n: '1' }) });
      await coreTwo.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('ignored', { tier: 'other' }, { n: '1' }) });
      await waitFor('the informer to add "informed"', () => informer.get('informed', NAMESPACE) !== undefined);
      await coreTwo.patchNamespacedConfigMap(
        { name: 'informed', namespace: NAMESPACE, body: { data: { n: '2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      await waitFor('the informer to see the update', () => informer.get('informed', NAMESPACE)?.data?.['n'] === '2');
      await coreTwo.deleteNamespacedConfigMap({ name: 'listed', namespace: NAMESPACE });
      await waitFor('the informer to drop "listed"', () => informer.get('listed', NAMESPACE) === undefined);

      expect(seen).toEqual(['add listed', 'add informed', 'update informed', 'delete listed']);
      expect(informer.list(NAMESPACE).map((object) => object.metadata?.name)).toEqual(['informed']);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
