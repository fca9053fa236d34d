import { spawn } from 'node:child_process';
import { ApiServerProcess, TestCluster, waitForLeader, type StoreKind } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * The real kubectl 1.32 against two k8ts-apiserver replicas (on different ports) over one store:
 * three k8ts-store members, and three real etcd 3.4 members — the API server must work on both.
 * Expectations are kube-apiserver's: what kubectl prints and the Status errors it reports.
 */
const KINDS: StoreKind[] = ['k8ts', 'etcd'];

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
`;

const SERVICE = `
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports:
  - port: 80
    targetPort: 80
`;

/**
 * Runs `kubectl get -w` (its output one "TYPE name" line per event): once `readyLine` (an object
 * made before it started, so in its list) shows it watching, runs `whileRunning`, then stops it
 * once `lastLine` is out; returns the output.
 */
async function watchOutput(server: ApiServerProcess, args: string[], readyLine: string, whileRunning: () => Promise<void>, lastLine: string): Promise<string> {
  const child = spawn('kubectl', ['--kubeconfig', server.kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const outputHas = (line: string): Promise<void> => eventually(() => output.includes(`${line}\n`), 30_000, `kubectl ${args.join(' ')} printing "${line}"`);
  try {
    await outputHas(readyLine);
    await whileRunning();
    await outputHas(lastLine);
    return output;
  } finally {
    child.kill('SIGTERM');
  }
}

const configMap = (name: string, namespace = 'default'): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\ndata:\n  a: "1"\n`;

describe.each(KINDS)('kubectl against two apiservers over %s', (kind) => {
  let store: TestCluster;
  let one: ApiServerProcess;
  let two: ApiServerProcess;

  beforeAll(async () => {
    store = await TestCluster.start(kind);
    await waitForLeader(store.endpoints);
    one = await ApiServerProcess.start(store.endpoints);
    two = await ApiServerProcess.start(store.endpoints);
  }, 60_000);

  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await store?.stop();
  });

  const ok = async (server: ApiServerProcess, args: string[], input?: string): Promise<string> => {
    const result = await server.kubectl(args, input === undefined ? {} : { input });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}):\n${result.stderr}\n${result.stdout}\napiserver log:\n${server.log.slice(-3000)}`);
    return result.stdout;
  };

  test('discovery: api-resources lists the served resources with short names', async () => {
    const out = await ok(one, ['api-resources']);
    expect(out).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    expect(out).toMatch(/^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
    const core = JSON.parse(await ok(one, ['get', '--raw', '/api/v1'])) as { resources: { name: string; kind: string; verbs: string[] }[] };
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'pods/exec', kind: 'PodExecOptions', verbs: ['create', 'get'] }));
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'pods/portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] }));
    const version = JSON.parse(await ok(one, ['get', '--raw', '/version'])) as { major: string; minor: string };
    expect(version).toMatchObject({ major: '1', minor: '32' });
    expect(await ok(one, ['get', '--raw', '/readyz'])).toBe('ok');
    await ok(one, ['get', 'namespace', 'default']);
    expect(await ok(one, ['get', '--raw', '/metrics'])).toMatch(/^apiserver_request_total\{verb="GET",resource="namespaces",code="200"\} \d+$/m);
  });

  test('apply a Deployment and a Service from YAML with validation on, then get them in every form', async () => {
    expect(await ok(one, ['apply', '-f', '-'], DEPLOYMENT)).toContain('deployment.apps/web created');
    expect(await ok(one, ['apply', '-f', '-'], SERVICE)).toContain('service/web created');
    // Applying again changes nothing.
    expect(await ok(two, ['apply', '-f', '-'], DEPLOYMENT)).toContain('deployment.apps/web unchanged');

    const table = await ok(two, ['get', 'deploy']);
    expect(table).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    expect(table).toMatch(/^web\s+0\/2\s+0\s+0\s+\d+s$/m);
    const wide = await ok(two, ['get', 'deployments', '-o', 'wide']);
    expect(wide).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR/);
    expect(wide).toMatch(/nginx\s+nginx:1\.27\s+app=web/);
    const services = await ok(two, ['get', 'svc', 'web']);
    expect(services).toMatch(/^web\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/m);

    const json = JSON.parse(await ok(two, ['get', 'deployment', 'web', '-o', 'json'])) as {
      metadata: { resourceVersion: string; uid: string; generation: number };
      spec: { strategy: { type: string }; template: { spec: { restartPolicy: string; containers: { imagePullPolicy: string }[] } } };
    };
    expect(json.metadata.generation).toBe(1);
    // Kubernetes' defaulting.
    expect(json.spec.strategy.type).toBe('RollingUpdate');
    expect(json.spec.template.spec.restartPolicy).toBe('Always');
    expect(json.spec.template.spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(await ok(one, ['get', 'deploy', 'web', '-o', 'yaml'])).toContain('kind: Deployment');
    expect(await ok(one, ['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('2');
  });

  test('get -w through one apiserver sees ADDED, MODIFIED and DELETED written through the other', async () => {
    await ok(two, ['create', '-f', '-'], configMap('watch-ready'));
    const watchArgs = ['get', 'configmaps', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}'];
    const output = await watchOutput(
      one,
      watchArgs,
      'ADDED watch-ready',
      async () => {
        await ok(two, ['create', '-f', '-'], configMap('watched'));
        await ok(two, ['label', 'configmap', 'watched', 'tier=backend']);
        await ok(two, ['delete', 'configmap', 'watched']);
      },
      'DELETED watched',
    );
    const lines = output.split('\n').filter((line) => line.endsWith(' watched'));
    expect(lines).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
  });

  test('label, annotate, and patch with each patch type', async () => {
    await ok(one, ['create', '-f', '-'], configMap('patched'));
    expect(await ok(one, ['label', 'configmap', 'patched', 'tier=backend'])).toContain('configmap/patched labeled');
    expect(await ok(two, ['annotate', 'configmap', 'patched', 'note=hello'])).toContain('configmap/patched annotated');
    await ok(one, ['patch', 'configmap', 'patched', '--type', 'merge', '-p', '{"data":{"b":"2"}}']);
    await ok(one, ['patch', 'configmap', 'patched', '--type', 'json', '-p', '[{"op":"replace","path":"/data/a","value":"10"}]']);
    await ok(one, ['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}']);
    const cm = JSON.parse(await ok(two, ['get', 'cm', 'patched', '-o', 'json'])) as { data: Record<string, string>; metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(cm.data).toEqual({ a: '10', b: '2' });
    expect(cm.metadata.labels).toEqual({ tier: 'backend' });
    expect(cm.metadata.annotations).toMatchObject({ note: 'hello' });
    const deployment = JSON.parse(await ok(two, ['get', 'deploy', 'web', '-o', 'json'])) as {
      metadata: { generation: number };
      spec: { template: { spec: { containers: { name: string; image: string; ports?: unknown[] }[] } } };
    };
    // Strategic merge: the container merged by name (its ports kept), and the spec change bumped generation.
    expect(deployment.spec.template.spec.containers).toHaveLength(1);
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx:1.28' });
    expect(deployment.spec.template.spec.containers[0]?.ports).toHaveLength(1);
    expect(deployment.metadata.generation).toBe(2);
    // Server-side apply.
    const applied = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: patched\ndata:\n  c: "3"\n`;
    await ok(one, ['apply', '--server-side', '--field-manager', 'tester', '-f', '-'], applied);
    expect(await ok(one, ['get', 'cm', 'patched', '-o', 'jsonpath={.data.c}'])).toBe('3');
    // A field another manager set is a conflict, unless forced.
    const taking = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: patched\ndata:\n  a: "99"\n  c: "3"\n`;
    const conflict = await one.kubectl(['apply', '--server-side', '--field-manager', 'tester', '-f', '-'], { input: taking });
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.a');
    await ok(one, ['apply', '--server-side', '--force-conflicts', '--field-manager', 'tester', '-f', '-'], taking);
    // Apply creates what is missing, and the fields it set are the applier's, as an Apply.
    await ok(one, ['apply', '--server-side', '--field-manager', 'tester', '-f', '-'], configMap('applied-new'));
    const managed = JSON.parse(await ok(two, ['get', 'cm', 'applied-new', '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields: { manager: string; operation: string }[] } };
    expect(managed.metadata.managedFields.map((entry) => `${entry.manager} ${entry.operation}`)).toEqual(['tester Apply']);
    expect(await ok(two, ['get', 'cm', 'patched', '-o', 'jsonpath={.data.a}'])).toBe('99');
  });

  test("metadata through /status and a Deployment's generation follow kube's strategies", async () => {
    const generation = async (): Promise<number> => Number(await ok(two, ['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.generation}']));
    const before = await generation();
    // An annotation change bumps a Deployment's generation (its annotations go to its ReplicaSets).
    await ok(one, ['annotate', 'deploy', 'web', 'team=shop']);
    expect(await generation()).toBe(before + 1);
    // Through /status: annotations change, a Deployment's labels do not, and generation stays.
    await ok(one, ['patch', 'deploy', 'web', '--subresource=status', '--type', 'merge', '-p', '{"metadata":{"annotations":{"written":"by-status"},"labels":{"sneaked":"in"}}}']);
    const deployment = JSON.parse(await ok(two, ['get', 'deploy', 'web', '-o', 'json'])) as { metadata: { annotations: Record<string, string>; labels?: Record<string, string>; generation: number } };
    expect(deployment.metadata.annotations['written']).toBe('by-status');
    expect(deployment.metadata.labels?.['sneaked']).toBeUndefined();
    expect(deployment.metadata.generation).toBe(before + 1);
  });

  test('scale sets replicas through the scale subresource', async () => {
    expect(await ok(one, ['scale', 'deployment', 'web', '--replicas', '5'])).toContain('deployment.apps/web scaled');
    expect(await ok(two, ['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('5');
  });

  test('errors are kube-apiserver Status errors: Conflict, Invalid, NotFound', async () => {
    const stale = JSON.parse(await ok(one, ['get', 'cm', 'patched', '-o', 'json'])) as { metadata: { resourceVersion: string } };
    await ok(one, ['label', 'cm', 'patched', 'again=yes']);
    const replaced = await one.kubectl(['replace', '-f', '-'], { input: JSON.stringify(stale) });
    expect(replaced.code).not.toBe(0);
    expect(replaced.stderr).toContain('Operation cannot be fulfilled on configmaps "patched": the object has been modified; please apply your changes to the latest version and try again');

    const invalid = await one.kubectl(['create', '-f', '-'], { input: configMap('Bad_Name') });
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain');

    // A uid in a patch must be the stored one: kube answers 422, which makes it a precondition.
    const otherUid = await one.kubectl(['patch', 'cm', 'patched', '--type', 'merge', '-p', '{"metadata":{"uid":"not-its-uid"}}']);
    expect(otherUid.code).not.toBe(0);
    expect(otherUid.stderr).toContain('ConfigMap "patched" is invalid: metadata.uid: Invalid value: "not-its-uid": field is immutable');

    const missing = await one.kubectl(['get', 'pod', 'nowhere']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('Error from server (NotFound): pods "nowhere" not found');
  });

  test('delete --wait returns once the object is gone', async () => {
    await ok(one, ['create', '-f', '-'], configMap('doomed'));
    expect(await ok(two, ['delete', 'configmap', 'doomed', '--wait'])).toContain('configmap "doomed" deleted');
    const gone = await one.kubectl(['get', 'configmap', 'doomed']);
    expect(gone.stderr).toContain('configmaps "doomed" not found');
  });

  test('deleting a namespace leaves it Terminating with the kubernetes finalizer', async () => {
    await ok(one, ['create', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: retired\n');
    await ok(one, ['create', '-f', '-'], configMap('inside', 'retired'));
    expect(await ok(one, ['delete', 'namespace', 'retired', '--wait=false'])).toContain('namespace "retired" deleted');
    const ns = JSON.parse(await ok(two, ['get', 'ns', 'retired', '-o', 'json'])) as { spec: { finalizers: string[] }; status: { phase: string } };
    expect(ns.status.phase).toBe('Terminating');
    expect(ns.spec.finalizers).toEqual(['kubernetes']);
    const refused = await one.kubectl(['create', '-f', '-'], { input: configMap('late', 'retired') });
    expect(refused.stderr).toContain('unable to create new content in namespace retired because it is being terminated');
    // The Status names the cause, as kube's NamespaceLifecycle admission does (controllers check it).
    const response = await fetch(`${one.url}/api/v1/namespaces/retired/configmaps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } }),
    });
    const status = (await response.json()) as { code: number; reason: string; details: { causes: unknown[] } };
    expect([status.code, status.reason]).toEqual([403, 'Forbidden']);
    expect(status.details.causes).toEqual([{ reason: 'NamespaceTerminating', message: 'namespace retired is being terminated', field: 'metadata.namespace' }]);
  });

  test('a namespace sheds its finalizers only through namespaces/finalize, then goes', async () => {
    await ok(one, ['create', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: stuck\n');
    await ok(one, ['delete', 'namespace', 'stuck', '--wait=false']);
    const ns = JSON.parse(await ok(one, ['get', 'ns', 'stuck', '-o', 'json'])) as { spec: { finalizers: string[] } };
    const emptied = JSON.stringify({ ...ns, spec: { finalizers: [] } });
    // An update keeps spec.finalizers, as kube's namespace strategy does.
    await ok(one, ['replace', '-f', '-'], emptied);
    expect(await ok(two, ['get', 'ns', 'stuck', '-o', 'jsonpath={.spec.finalizers}'])).toBe('["kubernetes"]');
    // The finalize subresource changes them; with none left the namespace is deleted.
    const current = JSON.parse(await ok(one, ['get', 'ns', 'stuck', '-o', 'json'])) as { spec: { finalizers: string[] } };
    await ok(one, ['replace', '--raw', '/api/v1/namespaces/stuck/finalize', '-f', '-'], JSON.stringify({ ...current, spec: { finalizers: [] } }));
    const gone = await two.kubectl(['get', 'ns', 'stuck']);
    expect(gone.stderr).toContain('namespaces "stuck" not found');
  });

  test('EndpointSlices carry metadata.generation, moved by changes to their endpoints, as 1.32 does', async () => {
    const slice = (address: string): string =>
      `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-abc\naddressType: IPv4\nendpoints:\n- addresses: ["${address}"]\n`;
    await ok(one, ['apply', '-f', '-'], slice('10.0.0.1'));
    expect(await ok(one, ['get', 'endpointslice', 'web-abc', '-o', 'jsonpath={.metadata.generation}'])).toBe('1');
    await ok(one, ['label', 'endpointslice', 'web-abc', 'touched=yes']);
    expect(await ok(one, ['get', 'endpointslice', 'web-abc', '-o', 'jsonpath={.metadata.generation}'])).toBe('1');
    await ok(one, ['apply', '-f', '-'], slice('10.0.0.2'));
    expect(await ok(one, ['get', 'endpointslice', 'web-abc', '-o', 'jsonpath={.metadata.generation}'])).toBe('2');
  });

  test('server-side field validation, dry run, and a watch from a revision the cache no longer holds', async () => {
    const typo = configMap('typo').replace('\ndata:', '\ndataa:');
    const strict = await one.kubectl(['apply', '-f', '-'], { input: typo });
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dataa"');

    expect(await ok(one, ['create', '--dry-run=server', '-f', '-'], configMap('dry'))).toContain('configmap/dry created (server dry run)');
    expect((await one.kubectl(['get', 'cm', 'dry'])).stderr).toContain('configmaps "dry" not found');

    // Revision 1 predates the apiserver's watch cache: kube answers with an ERROR event carrying 410 Expired.
    const expired = await ok(one, ['get', '--raw', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1']);
    const event = JSON.parse(expired.trim().split('\n')[0] as string) as { type: string; object: { code: number; reason: string } };
    expect(event).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
  });

  test("kubectl create's generators, which send Kubernetes protobuf", async () => {
    expect(await ok(one, ['create', 'namespace', 'generated'])).toContain('namespace/generated created');
    expect(await ok(one, ['create', 'configmap', 'settings', '--from-literal=a=1', '-n', 'generated'])).toContain('configmap/settings created');
    expect(await ok(one, ['create', 'secret', 'generic', 'creds', '--from-literal=p=q', '-n', 'generated'])).toContain('secret/creds created');
    expect(await ok(one, ['create', 'deployment', 'api', '--image=nginx:1.27', '--replicas=3', '-n', 'generated'])).toContain('deployment.apps/api created');
    expect(await ok(one, ['create', 'service', 'clusterip', 'api', '--tcp=80:8080', '-n', 'generated'])).toContain('service/api created');
    expect(await ok(two, ['get', 'cm', 'settings', '-n', 'generated', '-o', 'jsonpath={.data.a}'])).toBe('1');
    expect(await ok(two, ['get', 'secret', 'creds', '-n', 'generated', '-o', 'jsonpath={.data.p}'])).toBe(Buffer.from('q').toString('base64'));
    expect(await ok(two, ['get', 'deploy', 'api', '-n', 'generated', '-o', 'jsonpath={.spec.replicas} {.spec.selector.matchLabels.app}'])).toBe('3 api');
    expect(await ok(two, ['get', 'svc', 'api', '-n', 'generated', '-o', 'jsonpath={.spec.ports[0].targetPort}'])).toBe('8080');
  });

  test('explain reads the OpenAPI v3 documents', async () => {
    const out = await ok(one, ['explain', 'deployment.spec.replicas']);
    expect(out).toContain('KIND:       Deployment');
    expect(out).toContain('replicas');
  });
});
