import { type ApiServerProcess, startApiOverStore, type TestCluster } from '@k8ts/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * REST semantics checked over HTTP. Deletion as kube-apiserver does it: a pod on a node is deleted gracefully (it stays, with a
 * deletionTimestamp, until its kubelet finishes it with grace 0), finalizers hold an object until
 * they are removed, propagationPolicy Foreground and Orphan add their finalizers, and
 * deletecollection deletes what a selector picks. Paging with a selector fills each page.
 */
let store: TestCluster;
let api: ApiServerProcess;

beforeAll(async () => {
  ({ store, api } = await startApiOverStore());
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await store?.stop();
});

interface Meta {
  name: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  resourceVersion: string;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: { metadata?: Meta & { continue?: string }; items?: { metadata: Meta }[]; reason?: string; status?: string } }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'Content-Type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

const pods = '/api/v1/namespaces/default/pods';
const pod = (name: string, nodeName?: string, labels: Record<string, string> = {}): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { ...(nodeName ? { nodeName } : {}), terminationGracePeriodSeconds: 20, containers: [{ name: 'app', image: 'busybox' }] },
});

test('success Statuses are upstream\'s bodies: a delete names the object, a binding answers 201 with its code', async () => {
  await call('POST', pods, pod('short-lived'));
  const deleted = await call('DELETE', `${pods}/short-lived`);
  expect(deleted.status).toBe(200);
  // kube-apiserver's store.finalizeDelete: no code, message or reason (Go's omitempty), the
  // resource as details.kind, the core group left out.
  expect(deleted.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'short-lived', kind: 'pods', uid: expect.any(String) } });

  await call('POST', pods, pod('to-bind'));
  const bound = await call('POST', `${pods}/to-bind/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } });
  // BindingREST returns a bare Success; the create handler fills in its 201.
  expect(bound.status).toBe(201);
  expect(bound.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
});

test('a pod on a node is deleted gracefully; grace 0 finishes it', async () => {
  expect((await call('POST', pods, pod('graceful', 'node-1'))).status).toBe(201);
  // 200, as kube-apiserver answers a delete that leaves the object in place; 202 only for the
  // deprecated orphanDependents=false (below).
  const marked = await call('DELETE', `${pods}/graceful`);
  expect(marked.status).toBe(200);
  expect(marked.body.metadata?.deletionGracePeriodSeconds).toBe(20);
  expect(marked.body.metadata?.deletionTimestamp).toBeDefined();
  expect((await call('GET', `${pods}/graceful`)).status).toBe(200);
  // What the kubelet does once the containers are gone.
  const finished = await call('DELETE', `${pods}/graceful`, { gracePeriodSeconds: 0 });
  expect(finished.status).toBe(200);
  expect(finished.body.status).toBe('Success');
  expect((await call('GET', `${pods}/graceful`)).body.reason).toBe('NotFound');

  expect((await call('POST', pods, pod('not-orphaning', 'node-1'))).status).toBe(201);
  expect((await call('DELETE', `${pods}/not-orphaning?orphanDependents=false`)).status).toBe(202);
  expect((await call('DELETE', `${pods}/not-orphaning`, { orphanDependents: false })).status).toBe(202);

  // A pod no node runs goes at once.
  await call('POST', pods, pod('unscheduled'));
  expect((await call('DELETE', `${pods}/unscheduled`)).status).toBe(200);
  expect((await call('GET', `${pods}/unscheduled`)).status).toBe(404);
});

test('finalizers hold an object until the last one is removed; Foreground and Orphan add theirs', async () => {
  const cms = '/api/v1/namespaces/default/configmaps';
  await call('POST', cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/cleanup'] } });
  const marked = await call('DELETE', `${cms}/held`);
  expect(marked.status).toBe(200);
  expect(marked.body.metadata?.finalizers).toEqual(['example.com/cleanup']);
  const released = await call('PATCH', `${cms}/held`, [{ op: 'remove', path: '/metadata/finalizers' }], 'application/json-patch+json');
  expect(released.status).toBe(200);
  expect((await call('GET', `${cms}/held`)).status).toBe(404);

  await call('POST', cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } });
  const foreground = await call('DELETE', `${cms}/owner`, { propagationPolicy: 'Foreground' });
  expect(foreground.body.metadata?.finalizers).toEqual(['foregroundDeletion']);
  await call('POST', cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'orphaner' } });
  const orphan = await call('DELETE', `${cms}/orphaner?propagationPolicy=Orphan`);
  expect(orphan.body.metadata?.finalizers).toEqual(['orphan']);
});

test('deletecollection deletes what the selector picks, and only that', async () => {
  for (const [name, tier] of [['a', 'web'], ['b', 'web'], ['c', 'db']] as const) await call('POST', pods, pod(`dc-${name}`, undefined, { tier }));
  const deleted = await call('DELETE', `${pods}?labelSelector=tier%3Dweb`);
  expect(deleted.status).toBe(200);
  expect(deleted.body.items?.map((item) => item.metadata.name).sort()).toEqual(['dc-a', 'dc-b']);
  const left = await call('GET', `${pods}?labelSelector=tier`);
  expect(left.body.items?.map((item) => item.metadata.name)).toEqual(['dc-c']);
});

test('a page of a list with a selector holds `limit` matching objects, and continue resumes after them', async () => {
  const cms = '/api/v1/namespaces/default/configmaps';
  for (let i = 0; i < 9; i++) {
    await call('POST', cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `page-${i}`, labels: { parity: i % 3 === 0 ? 'three' : 'other' } } });
  }
  const first = await call('GET', `${cms}?labelSelector=parity%3Dthree&limit=2`);
  expect(first.body.items?.map((item) => item.metadata.name)).toEqual(['page-0', 'page-3']);
  const token = first.body.metadata?.continue;
  expect(token).toBeDefined();
  const second = await call('GET', `${cms}?labelSelector=parity%3Dthree&limit=2&continue=${encodeURIComponent(token as string)}`);
  expect(second.body.items?.map((item) => item.metadata.name)).toEqual(['page-6']);
  expect(second.body.metadata?.continue).toBeUndefined();
});
