import { type ApiServerProcess, startApiOverStore, type TestCluster } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * The Eviction API (pods/<name>/eviction) over HTTP against a real store and apiserver, with
 * PodDisruptionBudgets' rules as kube-apiserver applies them. No disruption controller runs here:
 * the test writes each budget's status itself (as the controller would), so the status alone drives
 * each answer.
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
const BUDGETS = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';

/** A pod on node-1 in the given phase, Ready or not (written as its kubelet would). */
async function pod(name: string, labels: Record<string, string>, phase = 'Running', ready = true): Promise<void> {
  const created = await call('POST', PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'busybox' }] },
  });
  expect(created.status).toBe(201);
  const conditions = [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }];
  const updated = await call('PUT', `${PODS}/${name}/status`, { ...created.body, status: { phase, conditions } });
  expect(updated.status).toBe(200);
}

async function budget(name: string, spec: Json, status?: Json): Promise<Json> {
  const created = await call('POST', BUDGETS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec });
  expect(created.status).toBe(201);
  if (status === undefined) return created.body;
  const updated = await call('PUT', `${BUDGETS}/${name}/status`, { ...created.body, status: { observedGeneration: created.body['metadata'].generation, ...status } });
  expect(updated.status).toBe(200);
  return updated.body;
}

function evict(name: string, deleteOptions?: Json, query = ''): Promise<{ status: number; body: Json }> {
  return call('POST', `${PODS}/${name}/eviction${query}`, {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace: 'default' },
    ...(deleteOptions === undefined ? {} : { deleteOptions }),
  });
}

describe('the PodDisruptionBudget resource', () => {
  test('is served in policy/v1, with pods/eviction in discovery', async () => {
    const resources = await api.kubectl(['api-resources', '--api-group', 'policy']);
    expect(resources.stdout).toMatch(/poddisruptionbudgets\s+pdb\s+policy\/v1\s+true\s+PodDisruptionBudget/);
    const core = await call('GET', '/api/v1');
    expect(core.body['resources']).toContainEqual(expect.objectContaining({ name: 'pods/eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] }));
  });

  test('is validated as upstream validates it, and printed by kubectl', async () => {
    const both = await call('POST', BUDGETS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'both' }, spec: { minAvailable: 1, maxUnavailable: 1 } });
    expect(both.status).toBe(422);
    expect(both.body['message']).toContain('minAvailable and maxUnavailable cannot be both set');
    const over = await call('POST', BUDGETS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'over' }, spec: { minAvailable: '120%' } });
    expect(over.body['message']).toContain('spec.minAvailable: Invalid value: "120%": must not be greater than 100%');
    const created = await api.kubectl(['create', 'poddisruptionbudget', 'printed', '--selector', 'app=printed', '--min-available', '50%']);
    expect(created.stderr).toBe('');
    const printed = await api.kubectl(['get', 'pdb', 'printed']);
    expect(printed.stdout).toMatch(/NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nprinted\s+50%\s+N\/A\s+0\s+/);
  });
});

describe('evicting a pod', () => {
  test('a budget that allows a disruption: the pod is marked and deleted, the budget takes the disruption', async () => {
    await pod('web-1', { app: 'web' });
    await pod('web-2', { app: 'web' });
    await budget('web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } }, { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1 });

    const first = await evict('web-1', { gracePeriodSeconds: 7 });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const evicted = await call('GET', `${PODS}/web-1`);
    expect(evicted.body['metadata'].deletionGracePeriodSeconds).toBe(7);
    expect(evicted.body['status'].conditions).toContainEqual(expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }));
    const taken = (await call('GET', `${BUDGETS}/web`)).body;
    expect(taken['status'].disruptionsAllowed).toBe(0);
    expect(Object.keys(taken['status'].disruptedPods)).toEqual(['web-1']);
    expect(taken['status'].conditions).toContainEqual(expect.objectContaining({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' }));

    // No disruption left: 429 with the budget's cause, and nothing changes.
    const second = await evict('web-2');
    expect(second.status).toBe(429);
    expect(second.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'TooManyRequests',
      code: 429,
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 2 currently' }] },
    });
    expect((await call('GET', `${PODS}/web-2`)).body['metadata'].deletionTimestamp).toBeUndefined();
  });

  test('a budget whose status has not caught up with its spec refuses, as still being processed', async () => {
    await pod('stale-1', { app: 'stale' });
    const created = await budget('stale', { maxUnavailable: 1, selector: { matchLabels: { app: 'stale' } } });
    expect(created['metadata'].generation).toBe(1);
    const refused = await evict('stale-1');
    expect(refused.status).toBe(429);
    expect(refused.body['details']).toMatchObject({ causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget stale is still being processed by the server.' }], retryAfterSeconds: 10 });
  });

  test('terminal and pending pods are evicted whatever the budget says', async () => {
    await pod('done-1', { app: 'done' }, 'Succeeded', false);
    await pod('pending-1', { app: 'done' }, 'Pending', false);
    await budget('done', { minAvailable: '100%', selector: { matchLabels: { app: 'done' } } }, { currentHealthy: 0, desiredHealthy: 2, expectedPods: 2, disruptionsAllowed: 0 });
    expect((await evict('done-1')).status).toBe(201);
    expect((await call('GET', `${PODS}/done-1`)).status).toBe(404);
    expect((await evict('pending-1')).status).toBe(201);
    expect((await call('GET', `${PODS}/pending-1`)).body['metadata'].deletionTimestamp).toBeDefined();
  });

  test('an unready pod: evicted without taking a disruption when the budget is healthy, or with AlwaysAllow', async () => {
    await pod('sick-1', { app: 'sick' }, 'Running', false);
    await budget('sick', { minAvailable: 1, selector: { matchLabels: { app: 'sick' } } }, { currentHealthy: 1, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 0 });
    expect((await evict('sick-1')).status).toBe(201);
    expect((await call('GET', `${BUDGETS}/sick`)).body['status'].disruptionsAllowed).toBe(0);

    await pod('frail-1', { app: 'frail' }, 'Running', false);
    await budget('frail', { minAvailable: 2, selector: { matchLabels: { app: 'frail' } } }, { currentHealthy: 0, desiredHealthy: 2, expectedPods: 1, disruptionsAllowed: 0 });
    expect((await evict('frail-1')).status).toBe(429);
    const patched = await fetch(`${api.url}${BUDGETS}/frail`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { unhealthyPodEvictionPolicy: 'AlwaysAllow' } }),
    });
    expect(patched.status).toBe(200);
    expect((await evict('frail-1')).status).toBe(201);
  });

  test('no budget: evicted; two budgets: refused as upstream does; dry run: nothing changes', async () => {
    await pod('free-1', { app: 'free' });
    expect((await evict('free-1')).status).toBe(201);

    await pod('twice-1', { app: 'twice', tier: 'x' });
    await budget('twice-a', { maxUnavailable: 1, selector: { matchLabels: { app: 'twice' } } }, { currentHealthy: 1, desiredHealthy: 0, expectedPods: 1, disruptionsAllowed: 1 });
    await budget('twice-b', { maxUnavailable: 1, selector: { matchLabels: { tier: 'x' } } }, { currentHealthy: 1, desiredHealthy: 0, expectedPods: 1, disruptionsAllowed: 1 });
    const twice = await evict('twice-1');
    expect(twice.status).toBe(500);
    expect(twice.body['message']).toBe('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');

    await pod('dry-1', { app: 'dry' });
    await budget('dry', { maxUnavailable: 1, selector: { matchLabels: { app: 'dry' } } }, { currentHealthy: 1, desiredHealthy: 0, expectedPods: 1, disruptionsAllowed: 1 });
    expect((await evict('dry-1', undefined, '?dryRun=All')).status).toBe(201);
    expect((await call('GET', `${PODS}/dry-1`)).body['metadata'].deletionTimestamp).toBeUndefined();
    expect((await call('GET', `${BUDGETS}/dry`)).body['status'].disruptionsAllowed).toBe(1);
  });

  test('bad requests: a pod that does not exist, a name that does not match, a stale precondition', async () => {
    const ghost = await evict('ghost');
    expect(ghost.status).toBe(404);
    expect(ghost.body['message']).toBe('pods "ghost" not found');
    await pod('named-1', { app: 'named' });
    const mismatch = await call('POST', `${PODS}/named-1/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body['message']).toBe('name in URL does not match name in Eviction object');
    const stale = await evict('named-1', { preconditions: { resourceVersion: '1' } });
    expect(stale.status).toBe(409);
    expect((await call('GET', `${PODS}/named-1`)).body['metadata'].deletionTimestamp).toBeUndefined();
  });
});
