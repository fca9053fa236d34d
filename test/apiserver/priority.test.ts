import { ApiServerProcess, TestCluster, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * PriorityClasses and the Priority admission plugin, over HTTP and with the real kubectl, against
 * two apiserver replicas that start together over one store (both run the bootstrap of the system
 * classes). Expectations are kube-apiserver 1.32's: its Status messages and what kubectl prints.
 */
let store: TestCluster;
let one: ApiServerProcess;
let two: ApiServerProcess;

beforeAll(async () => {
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  [one, two] = await Promise.all([ApiServerProcess.start(store.endpoints), ApiServerProcess.start(store.endpoints)]);
}, 60_000);

afterAll(async () => {
  await one?.stop();
  await two?.stop();
  await store?.stop();
});

interface PodSpec {
  priority?: number;
  priorityClassName?: string;
  preemptionPolicy?: string;
}

interface Reply {
  status: number;
  body: {
    metadata?: { name?: string; generation?: number; resourceVersion?: string; managedFields?: { manager: string }[] };
    spec?: PodSpec;
    value?: number;
    globalDefault?: boolean;
    description?: string;
    preemptionPolicy?: string;
    message?: string;
    reason?: string;
    items?: { metadata: { name: string } }[];
  };
}

async function call(server: ApiServerProcess, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'Content-Type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Reply['body'] };
}

const classes = '/apis/scheduling.k8s.io/v1/priorityclasses';
const pods = '/api/v1/namespaces/default/pods';

const priorityClass = (name: string, value: number, fields: Record<string, unknown> = {}): object => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  value,
  ...fields,
});

const pod = (name: string, spec: PodSpec = {}): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { ...spec, containers: [{ name: 'app', image: 'busybox' }] },
});

async function ok(server: ApiServerProcess, args: string[], input?: string): Promise<string> {
  const result = await server.kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}):\n${result.stderr}\n${result.stdout}\napiserver log:\n${server.log.slice(-3000)}`);
  return result.stdout;
}

test('both replicas started; the system classes exist, as kube-apiserver creates them', async () => {
  for (const [name, value] of [['system-node-critical', 2000001000], ['system-cluster-critical', 2000000000]] as const) {
    const found = await call(two, 'GET', `${classes}/${name}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ value, preemptionPolicy: 'PreemptLowerPriority', metadata: { name, generation: 1 } });
    expect(found.body.globalDefault).toBeUndefined();
    expect(found.body.description).toMatch(/^Used for system critical pods that must /);
    expect(found.body.metadata?.managedFields?.map((entry) => entry.manager)).toEqual(['kube-apiserver']);
  }
  const table = await ok(one, ['get', 'pc']);
  expect(table).toMatch(/^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY$/m);
  expect(table).toMatch(/^system-cluster-critical\s+2000000000\s+false\s+\d+s\s+PreemptLowerPriority$/m);
  expect(table).toMatch(/^system-node-critical\s+2000001000\s+false\s+\d+s\s+PreemptLowerPriority$/m);
});

test('discovery and explain know priorityclasses', async () => {
  expect(await ok(one, ['api-resources'])).toMatch(/^priorityclasses\s+pc\s+scheduling\.k8s\.io\/v1\s+false\s+PriorityClass$/m);
  const explained = await ok(one, ['explain', 'priorityclass']);
  expect(explained).toContain('KIND:       PriorityClass');
  expect(explained).toContain('GROUP:      scheduling.k8s.io');
  expect(explained).toMatch(/value\s+<integer> -required-/);
  expect(await ok(one, ['explain', 'pc.preemptionPolicy'])).toContain('PreemptLowerPriority');
});

test('a pod with no class and no default class gets priority 0 and PreemptLowerPriority', async () => {
  const created = await call(one, 'POST', pods, pod('plain'));
  expect(created.status).toBe(201);
  expect(created.body.spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
  expect(created.body.spec?.priorityClassName).toBeUndefined();
});

test('kubectl creates a class; a pod naming it gets its priority and policy; a system class works too', async () => {
  expect(await ok(one, ['create', 'priorityclass', 'high', '--value=1000', '--description=high priority'])).toContain('priorityclass.scheduling.k8s.io/high created');
  expect(await ok(one, ['create', 'priorityclass', 'polite', '--value=500', '--preemption-policy=Never'])).toContain('priorityclass.scheduling.k8s.io/polite created');
  const high = await call(two, 'GET', `${classes}/high`);
  expect(high.body).toMatchObject({ value: 1000, description: 'high priority', preemptionPolicy: 'PreemptLowerPriority', metadata: { generation: 1 } });

  const important = await call(two, 'POST', pods, pod('important', { priorityClassName: 'high' }));
  expect(important.status).toBe(201);
  expect(important.body.spec).toMatchObject({ priorityClassName: 'high', priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });
  const patient = await call(one, 'POST', pods, pod('patient', { priorityClassName: 'polite' }));
  expect(patient.body.spec).toMatchObject({ priority: 500, preemptionPolicy: 'Never' });
  const critical = await call(one, 'POST', pods, pod('critical', { priorityClassName: 'system-node-critical' }));
  expect(critical.body.spec?.priority).toBe(2000001000);
  // The same priority the class gives may be sent along (a pod re-created from its own YAML).
  const again = await call(one, 'POST', pods, pod('again', { priorityClassName: 'high', priority: 1000 }));
  expect(again.status).toBe(201);
  expect(await ok(two, ['get', 'pod', 'important', '-o', 'jsonpath={.spec.priority}'])).toBe('1000');

  // An update that leaves out what admission resolved keeps it.
  const current = await call(one, 'GET', `${pods}/important`);
  const replaced = await call(one, 'PUT', `${pods}/important`, {
    ...(pod('important', { priorityClassName: 'high' }) as Record<string, unknown>),
    metadata: { name: 'important', resourceVersion: current.body.metadata?.resourceVersion, labels: { tier: 'gold' } },
  });
  expect(replaced.status).toBe(200);
  expect(replaced.body.spec).toMatchObject({ priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });
});

test('an unknown class, or a priority or policy that differs from the class, is 403 Forbidden', async () => {
  const unknown = await call(one, 'POST', pods, pod('x', { priorityClassName: 'foo' }));
  expect(unknown.status).toBe(403);
  expect(unknown.body).toMatchObject({ reason: 'Forbidden', message: 'pods "x" is forbidden: no PriorityClass with name foo was found' });
  // Admission sees the name the request gave: generateName, before the server completes it.
  const generated = await call(one, 'POST', pods, { ...(pod('') as Record<string, unknown>), metadata: { generateName: 'web-7d9f8-' }, spec: { priorityClassName: 'foo', containers: [{ name: 'app', image: 'busybox' }] } });
  expect(generated.body.message).toBe('pods "web-7d9f8-" is forbidden: no PriorityClass with name foo was found');

  const differing = await call(one, 'POST', pods, pod('y', { priorityClassName: 'high', priority: 5 }));
  expect(differing.status).toBe(403);
  expect(differing.body.message).toBe(
    'pods "y" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
  );
  const policy = await call(one, 'POST', pods, pod('z', { priorityClassName: 'polite', preemptionPolicy: 'PreemptLowerPriority' }));
  expect(policy.status).toBe(403);
  expect(policy.body.message).toBe(
    'pods "z" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name',
  );

  const viaKubectl = await one.kubectl(['run', 'w', '--image=busybox', '--overrides={"spec":{"priorityClassName":"foo"}}']);
  expect(viaKubectl.code).not.toBe(0);
  expect(viaKubectl.stderr).toContain('Error from server (Forbidden): pods "w" is forbidden: no PriorityClass with name foo was found');
});

test('validation: the value cap, reserved names, and value and preemptionPolicy immutable on update (422)', async () => {
  const tooHigh = await call(one, 'POST', classes, priorityClass('greedy', 1000000001));
  expect(tooHigh.status).toBe(422);
  expect(tooHigh.body.message).toBe('PriorityClass.scheduling.k8s.io "greedy" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000');
  const reserved = await call(one, 'POST', classes, priorityClass('system-mine', 10));
  expect(reserved.status).toBe(422);
  expect(reserved.body.message).toBe(
    "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
  );

  const changed = await call(one, 'PATCH', `${classes}/high`, { value: 2000 }, 'application/merge-patch+json');
  expect(changed.status).toBe(422);
  expect(changed.body.message).toBe('PriorityClass.scheduling.k8s.io "high" is invalid: value: Forbidden: may not be changed in an update.');
  const policy = await call(one, 'PATCH', `${classes}/high`, { preemptionPolicy: 'Never' }, 'application/merge-patch+json');
  expect(policy.status).toBe(422);
  expect(policy.body.message).toBe('PriorityClass.scheduling.k8s.io "high" is invalid: preemptionPolicy: Invalid value: "Never": field is immutable');
  const viaKubectl = await one.kubectl(['patch', 'pc', 'high', '--type=merge', '-p', '{"value":3}']);
  expect(viaKubectl.stderr).toContain('The PriorityClass "high" is invalid: value: Forbidden: may not be changed in an update.');

  // What may change does, and generation stays 1, as upstream's strategy leaves it.
  const described = await call(one, 'PATCH', `${classes}/high`, { description: 'very high' }, 'application/merge-patch+json');
  expect(described.status).toBe(200);
  expect(described.body).toMatchObject({ description: 'very high', value: 1000, metadata: { generation: 1 } });
});

test('the global default class applies to pods naming no class, and a second one is refused', async () => {
  const fallback = await call(one, 'POST', classes, priorityClass('fallback', 7, { globalDefault: true, preemptionPolicy: 'Never' }));
  expect(fallback.status).toBe(201);
  // The plugin reads classes from the apiserver's watch cache (kube's from an informer): wait for
  // it to see the new class, with dry runs, which admission serves like real creates.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const trial = await call(two, 'POST', `${pods}?dryRun=All`, pod('trial'));
    if (trial.body.spec?.priorityClassName === 'fallback' || Date.now() > deadline) break;
    await new Promise((done) => setTimeout(done, 50));
  }
  const defaulted = await call(two, 'POST', pods, pod('defaulted'));
  expect(defaulted.status).toBe(201);
  expect(defaulted.body.spec).toMatchObject({ priorityClassName: 'fallback', priority: 7, preemptionPolicy: 'Never' });
  // A pod naming a class still gets that class.
  expect((await call(two, 'POST', pods, pod('named', { priorityClassName: 'high' }))).body.spec?.priority).toBe(1000);

  for (const server of [one, two]) {
    const second = await call(server, 'POST', classes, priorityClass('another', 3, { globalDefault: true }));
    expect(second.status).toBe(403);
    expect(second.body.message).toBe(
      'priorityclasses.scheduling.k8s.io "another" is forbidden: PriorityClass fallback is already marked as default. Only one default can exist',
    );
  }
  // Nor may an existing class become a second default; the default itself may be updated.
  const promoted = await call(one, 'PATCH', `${classes}/high`, { globalDefault: true }, 'application/merge-patch+json');
  expect(promoted.status).toBe(403);
  expect(promoted.body.message).toBe(
    'priorityclasses.scheduling.k8s.io "high" is forbidden: PriorityClass fallback is already marked as default. Only one default can exist',
  );
  const redescribed = await call(one, 'PATCH', `${classes}/fallback`, { description: 'the default' }, 'application/merge-patch+json');
  expect(redescribed.status).toBe(200);

  const table = await ok(two, ['get', 'priorityclasses']);
  expect(table).toMatch(/^fallback\s+7\s+true\s+\d+s\s+Never$/m);
  expect(table).toMatch(/^high\s+1000\s+false\s+\d+s\s+PreemptLowerPriority$/m);
  expect(await ok(two, ['get', 'pc', '-o', 'wide'])).toMatch(/^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY$/m);
});
