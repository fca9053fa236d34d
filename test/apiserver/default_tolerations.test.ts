import { ApiServerProcess, TestCluster, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * The DefaultTolerationSeconds admission plugin with kube-apiserver's flags
 * --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds, set to what
 * the compose cluster uses, against a real apiserver process; a pod's own toleration stands.
 */
let store: TestCluster;
let server: ApiServerProcess;

beforeAll(async () => {
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  server = await ApiServerProcess.start(store.endpoints, {
    extraArgs: ['--default-not-ready-toleration-seconds', '15', '--default-unreachable-toleration-seconds', '20'],
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await store?.stop();
});

interface Toleration {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

async function createPod(name: string, tolerations?: Toleration[]): Promise<Toleration[] | undefined> {
  const response = await fetch(`${server.url}/api/v1/namespaces/default/pods`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: [{ name: 'c', image: 'k8ts/http-echo' }], ...(tolerations ? { tolerations } : {}) },
    }),
  });
  const body = (await response.json()) as { spec?: { tolerations?: Toleration[] }; message?: string };
  expect(response.status, body.message).toBe(201);
  return body.spec?.tolerations;
}

const notReady = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' };
const unreachable = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' };

test('a pod without tolerations gets the flags\' seconds for the not-ready and unreachable NoExecute taints', async () => {
  expect(await createPod('bare')).toEqual([
    { ...notReady, tolerationSeconds: 15 },
    { ...unreachable, tolerationSeconds: 20 },
  ]);
});

test("a pod's own toleration of a taint stands; only the other is added", async () => {
  expect(await createPod('own', [{ ...unreachable, tolerationSeconds: 600 }])).toEqual([
    { ...unreachable, tolerationSeconds: 600 },
    { ...notReady, tolerationSeconds: 15 },
  ]);
});
