import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { ComponentProcess } from '@k8ts/testkit';
import type { ConfigMap, Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually } from './control_plane.js';

/**
 * The ServiceAccount controller and the root CA publisher as users meet them: a real store,
 * apiserver and k8ts-controller-manager (`--controllers serviceaccount,root-ca-cert-publisher`).
 * The manager is given no CA, so `ca.crt` is empty, as upstream publishes without CA data.
 */

type NamespaceObject = Namespace & KubeObject;
type AccountObject = ServiceAccount & KubeObject;
type ConfigMapObject = ConfigMap & KubeObject;

/** Per test: several waits of up to WAIT_MS each on a machine shared by many workers. */
const TEST_TIMEOUT_MS = 120_000;
const WAIT_MS = 45_000;
const CONTROLLERS_UNDER_TEST = 'serviceaccount,root-ca-cert-publisher';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

let plane: ControlPlane;
let manager: ComponentProcess;
let namespaces: ResourceClient<NamespaceObject>;
let accounts: ResourceClient<AccountObject>;
let configMaps: ResourceClient<ConfigMapObject>;

async function getOrUndefined<T extends KubeObject>(client: ResourceClient<T>, name: string): Promise<T | undefined> {
  try {
    return await client.get(name);
  } catch {
    return undefined;
  }
}

/** Waits for the namespace's `default` ServiceAccount and kube-root-ca.crt; returns them. */
async function untilPublished(ns: string, check: (account: AccountObject, configMap: ConfigMapObject) => boolean = () => true): Promise<{ account: AccountObject; configMap: ConfigMapObject }> {
  let account: AccountObject | undefined;
  let configMap: ConfigMapObject | undefined;
  await eventually(
    async () => {
      account = await getOrUndefined(accounts.namespace(ns), 'default');
      configMap = await getOrUndefined(configMaps.namespace(ns), 'kube-root-ca.crt');
      return account !== undefined && configMap !== undefined && check(account, configMap);
    },
    WAIT_MS,
    `default ServiceAccount and kube-root-ca.crt in ${ns}`,
  );
  return { account: account as AccountObject, configMap: configMap as ConfigMapObject };
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  namespaces = plane.client.resource<NamespaceObject>('', 'v1', 'namespaces');
  accounts = plane.client.resource<AccountObject>('', 'v1', 'serviceaccounts');
  configMaps = plane.client.resource<ConfigMapObject>('', 'v1', 'configmaps');
  manager = await plane.startManager(CONTROLLERS_UNDER_TEST);
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('ServiceAccount controller and root CA publisher', () => {
  test('every namespace, the system ones and a new one, gets a default ServiceAccount and kube-root-ca.crt', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) await untilPublished(ns);
    await plane.createNamespace('team-a');
    const { account, configMap } = await untilPublished('team-a');
    expect(account.metadata?.name).toBe('default');
    expect(configMap.data).toEqual({ 'ca.crt': '' });
    expect(configMap.metadata?.annotations).toEqual({ 'kubernetes.io/description': DESCRIPTION });
  }, TEST_TIMEOUT_MS);

  test('deleting either brings it back; an edited kube-root-ca.crt is put right; the account is the user’s to change', async () => {
    await plane.createNamespace('team-b');
    const first = await untilPublished('team-b');
    await accounts.namespace('team-b').delete('default');
    await configMaps.namespace('team-b').delete('kube-root-ca.crt');
    const second = await untilPublished('team-b', (account, configMap) => account.metadata?.uid !== first.account.metadata?.uid && configMap.metadata?.uid !== first.configMap.metadata?.uid);
    expect(second.configMap.data).toEqual({ 'ca.crt': '' });

    await configMaps.namespace('team-b').update({
      ...second.configMap,
      metadata: { ...second.configMap.metadata, annotations: { mine: 'kept' } },
      data: { 'ca.crt': 'forged' },
    });
    const repaired = await untilPublished('team-b', (_, configMap) => configMap.data?.['ca.crt'] === '' && configMap.metadata?.annotations?.['kubernetes.io/description'] !== undefined);
    expect(repaired.configMap.metadata?.annotations).toEqual({ mine: 'kept', 'kubernetes.io/description': DESCRIPTION });

    const labelled = await accounts.namespace('team-b').patch('default', 'merge', { metadata: { labels: { owner: 'me' } }, automountServiceAccountToken: false });
    // A later namespace is served after team-b's account update by the one worker: a barrier.
    await plane.createNamespace('team-b-barrier');
    await untilPublished('team-b-barrier');
    const after = await accounts.namespace('team-b').get('default');
    expect(after.metadata?.resourceVersion).toBe(labelled.metadata?.resourceVersion);
  }, TEST_TIMEOUT_MS);

  test('a terminating namespace gets nothing back', async () => {
    await plane.createNamespace('team-c');
    await plane.createNamespace('team-c-barrier');
    await untilPublished('team-c');
    const barrier = await untilPublished('team-c-barrier');
    // No namespace controller runs here: the namespace stays Terminating.
    await namespaces.delete('team-c');
    expect((await namespaces.get('team-c')).status?.phase).toBe('Terminating');
    await accounts.namespace('team-c').delete('default');
    await configMaps.namespace('team-c').delete('kube-root-ca.crt');
    // A barrier on the same watches and queues (one worker each): once the barrier namespace's
    // objects are back, team-c's deletions have been handled.
    await accounts.namespace('team-c-barrier').delete('default');
    await configMaps.namespace('team-c-barrier').delete('kube-root-ca.crt');
    await untilPublished('team-c-barrier', (account, configMap) => account.metadata?.uid !== barrier.account.metadata?.uid && configMap.metadata?.uid !== barrier.configMap.metadata?.uid);
    expect(await getOrUndefined(accounts.namespace('team-c'), 'default')).toBeUndefined();
    expect(await getOrUndefined(configMaps.namespace('team-c'), 'kube-root-ca.crt')).toBeUndefined();
  }, TEST_TIMEOUT_MS);

  test('converges after a kill -9: what was deleted or edited while it was down, and namespaces created meanwhile', async () => {
    await plane.createNamespace('team-d');
    const before = await untilPublished('team-d');
    await manager.kill();
    await accounts.namespace('team-d').delete('default');
    await configMaps.namespace('team-d').update({ ...before.configMap, data: { 'ca.crt': 'forged' } });
    await plane.createNamespace('team-e');
    manager = await plane.startManager(CONTROLLERS_UNDER_TEST);
    await untilPublished('team-d', (account, configMap) => account.metadata?.uid !== before.account.metadata?.uid && configMap.data?.['ca.crt'] === '');
    await untilPublished('team-e');
  }, TEST_TIMEOUT_MS);
});
