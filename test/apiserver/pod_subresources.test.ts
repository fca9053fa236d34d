import { type ApiServerProcess, startApiOverStore, type TestCluster } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * pods/exec, pods/attach and pods/portforward outside their upgrade path, against a real store and
 * apiserver: discovery and OpenAPI list them as kube-apiserver 1.32 does, and a plain (non-upgrade)
 * request gets kube-apiserver's answers in its order: the pod's 404 first, then the pod's checks,
 * then 400 "Upgrade request required".
 */
let store: TestCluster;
let api: ApiServerProcess;

beforeAll(async () => {
  ({ store, api } = await startApiOverStore());
  await pod('one', { nodeName: 'node-1', containers: [{ name: 'app', image: 'busybox' }] });
  await pod('two', { nodeName: 'node-1', containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }] });
  await pod('pending', { containers: [{ name: 'app', image: 'busybox' }] });
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await store?.stop();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const PODS = '/api/v1/namespaces/default/pods';

async function pod(name: string, spec: Json): Promise<void> {
  const created = await call('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });
  expect(created.status).toBe(201);
}

const badRequest = (message: string): Json => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 });

describe('discovery', () => {
  test("/api/v1 lists pods' subresources as kube-apiserver 1.32, and kubectl api-resources still reads it", async () => {
    const core = await call('GET', '/api/v1');
    const pods = (core.body['resources'] as Json[]).filter((resource) => String(resource['name']).startsWith('pods/'));
    expect(pods).toEqual([
      { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] },
      { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
      { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
      { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ]);
    const resources = await api.kubectl(['api-resources']);
    expect(resources.stderr).toBe('');
    expect(resources.stdout).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
  });

  test('OpenAPI v3 has the connect operations', async () => {
    const document = await call('GET', '/openapi/v3/api/v1');
    const exec = document.body['paths']['/api/v1/namespaces/{namespace}/pods/{name}/exec'] as Json;
    expect(exec['get']).toMatchObject({
      operationId: 'connectCoreV1GetNamespacedPodExec',
      'x-kubernetes-action': 'connect',
      'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind: 'PodExecOptions' },
    });
    expect(exec['post']['operationId']).toBe('connectCoreV1PostNamespacedPodExec');
    expect((exec['get']['parameters'] as Json[]).map((parameter) => parameter['name'])).toEqual(['command', 'container', 'stderr', 'stdin', 'stdout', 'tty']);
    const forward = document.body['paths']['/api/v1/namespaces/{namespace}/pods/{name}/portforward'] as Json;
    expect(forward['get']['x-kubernetes-group-version-kind']['kind']).toBe('PodPortForwardOptions');
  });
});

describe('a plain request (no upgrade)', () => {
  test.each([
    ['GET', 'exec?command=date&stdout=true'],
    ['POST', 'exec?command=date&stdout=true'],
    ['GET', 'attach?stdout=true'],
    ['POST', 'attach?stdout=true'],
    ['GET', 'portforward?ports=80'],
    ['POST', 'portforward?ports=80'],
  ])('%s pods/one/%s gets 400 "Upgrade request required"', async (method, rest) => {
    const answer = await call(method, `${PODS}/one/${rest}`);
    expect(answer).toEqual({ status: 400, body: badRequest('Upgrade request required') });
  });

  test.each(['exec?command=date', 'attach', 'portforward'])('pods/missing/%s gets the pod\'s 404 first', async (rest) => {
    const answer = await call('POST', `${PODS}/missing/${rest}`);
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "missing" not found', details: { name: 'missing', kind: 'pods' } });
  });

  test('the pod is checked before the upgrade: its container, then its host', async () => {
    expect((await call('GET', `${PODS}/two/exec?command=date&stdout=true`)).body).toEqual(badRequest('a container name must be specified for pod two, choose one of: [a b]'));
    expect((await call('GET', `${PODS}/two/attach?container=c&stdout=true`)).body).toEqual(badRequest('container c is not valid for pod two'));
    expect((await call('GET', `${PODS}/two/exec?container=b&command=date&stdout=true`)).body).toEqual(badRequest('Upgrade request required'));
    expect((await call('GET', `${PODS}/pending/exec?command=date&stdout=true`)).body).toEqual(badRequest('pod pending does not have a host assigned'));
    // port-forward names no container: only the host is checked.
    expect((await call('GET', `${PODS}/pending/portforward?ports=80`)).body).toEqual(badRequest('pod pending does not have a host assigned'));
  });

  test('other methods are not served', async () => {
    const answer = await call('PUT', `${PODS}/one/exec`, {});
    expect(answer.status).toBe(405);
    expect(answer.body['reason']).toBe('MethodNotAllowed');
  });
});
