import { type ApiServerProcess, startApiOverStore, type TestCluster } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * Services through a real k8ts-apiserver over a k8ts-store, driven by the real kubectl 1.32 and by
 * HTTP: defaults, allocation of cluster IPs and node ports (and their release on delete and on a
 * type change), and kube-apiserver 1.32's 422 answers word for word.
 */
let store: TestCluster;
let server: ApiServerProcess;

beforeAll(async () => {
  ({ store, api: server } = await startApiOverStore());
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await store?.stop();
});

type Spec = Record<string, unknown>;

const manifest = (name: string, spec: Spec): string => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });

async function create(name: string, spec: Spec): Promise<{ code: number; stdout: string; stderr: string }> {
  return server.kubectl(['create', '-f', '-'], { input: manifest(name, spec) });
}

async function createOk(name: string, spec: Spec): Promise<void> {
  const created = await create(name, spec);
  expect(created.stderr).toBe('');
  expect(created.stdout).toBe(`service/${name} created\n`);
}

async function getSpec(name: string): Promise<Spec> {
  const got = await server.kubectl(['get', 'service', name, '-o', 'json']);
  expect(got.stderr).toBe('');
  return (JSON.parse(got.stdout) as { spec: Spec }).spec;
}

async function remove(name: string): Promise<void> {
  const deleted = await server.kubectl(['delete', 'service', name]);
  expect(deleted.stdout).toBe(`service "${name}" deleted\n`);
}

/** kubectl's one-line answer for a 422 with one cause. */
function invalid(name: string, cause: string): string {
  return `The Service "${name}" is invalid: ${cause}\n`;
}

async function post(spec: Spec, name: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/api/v1/namespaces/default/services`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: manifest(name, spec),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function notStored(name: string): Promise<void> {
  const got = await server.kubectl(['get', 'service', name]);
  expect(got.stderr).toContain(`services "${name}" not found`);
}

describe('defaults and allocation', () => {
  test('a ClusterIP Service whose selector matches nothing is created with upstream defaults', async () => {
    await createOk('plain', { selector: { app: 'nothing-here' }, ports: [{ port: 80 }] });
    const spec = await getSpec('plain');
    expect(spec).toMatchObject({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    });
    expect(spec['externalTrafficPolicy']).toBeUndefined();
    const clusterIP = spec['clusterIP'] as string;
    expect(spec['clusterIPs']).toEqual([clusterIP]);
    // 10.96.0.0/12: 10.96.0.0 - 10.111.255.255.
    const [a, b] = clusterIP.split('.').map(Number) as [number, number];
    expect(a).toBe(10);
    expect(b >= 96 && b <= 111).toBe(true);
  });

  test('NodePort and LoadBalancer Services get node ports in 30000-32767 and their external defaults', async () => {
    await createOk('nodeport', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }] });
    const nodePort = await getSpec('nodeport');
    expect(nodePort['externalTrafficPolicy']).toBe('Cluster');
    const port = (nodePort['ports'] as { nodePort: number }[])[0]?.nodePort ?? 0;
    expect(port >= 30000 && port <= 32767).toBe(true);
    await createOk('balancer', { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 443 }] });
    const balancer = await getSpec('balancer');
    expect(balancer).toMatchObject({ allocateLoadBalancerNodePorts: true, externalTrafficPolicy: 'Cluster', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } });
    expect((balancer['ports'] as { nodePort?: number }[])[0]?.nodePort).toBeGreaterThanOrEqual(30000);
  });

  test('a NodePort freed by a delete, and by a change to ClusterIP, can be taken again', async () => {
    await createOk('first-owner', { type: 'NodePort', ports: [{ port: 80, nodePort: 30111 }] });
    expect(await create('second-owner', { type: 'NodePort', ports: [{ port: 80, nodePort: 30111 }] })).toMatchObject({
      stderr: invalid('second-owner', 'spec.ports[0].nodePort: Invalid value: 30111: provided port is already allocated'),
    });
    await remove('first-owner');
    await createOk('second-owner', { type: 'NodePort', ports: [{ port: 80, nodePort: 30111 }] });
    // A merge patch of the type alone: the unchanged node port goes with the type, as upstream.
    const patched = await server.kubectl(['patch', 'service', 'second-owner', '-p', '{"spec":{"type":"ClusterIP"}}']);
    expect(patched.stdout).toBe('service/second-owner patched\n');
    const spec = await getSpec('second-owner');
    expect(spec['type']).toBe('ClusterIP');
    expect((spec['ports'] as { nodePort?: number }[])[0]?.nodePort).toBeUndefined();
    expect(spec['externalTrafficPolicy']).toBeUndefined();
    await createOk('third-owner', { type: 'NodePort', ports: [{ port: 80, nodePort: 30111 }] });
  });

  test('a change from ClusterIP to NodePort allocates a node port and keeps the cluster IP', async () => {
    await createOk('grows', { ports: [{ port: 8080 }] });
    const before = await getSpec('grows');
    const patched = await server.kubectl(['patch', 'service', 'grows', '-p', '{"spec":{"type":"NodePort"}}']);
    expect(patched.stdout).toBe('service/grows patched\n');
    const after = await getSpec('grows');
    expect(after['clusterIPs']).toEqual(before['clusterIPs']);
    expect((after['ports'] as { nodePort?: number }[])[0]?.nodePort).toBeGreaterThanOrEqual(30000);
  });

  test('a cluster IP freed by a delete can be asked for again; a replace that leaves it out keeps it', async () => {
    await createOk('fixed-ip', { clusterIP: '10.96.5.5', ports: [{ port: 80 }] });
    expect(await create('same-ip', { clusterIP: '10.96.5.5', ports: [{ port: 80 }] })).toMatchObject({
      stderr: invalid('same-ip', 'spec.clusterIPs: Invalid value: []string{"10.96.5.5"}: failed to allocate IP 10.96.5.5: provided IP is already allocated'),
    });
    const replaced = await server.kubectl(['replace', '-f', '-'], { input: manifest('fixed-ip', { ports: [{ port: 80 }] }) });
    expect(replaced.stderr).toBe('');
    expect((await getSpec('fixed-ip'))['clusterIP']).toBe('10.96.5.5');
    await remove('fixed-ip');
    await createOk('same-ip', { clusterIP: '10.96.5.5', ports: [{ port: 80 }] });
  });

  test('dry run allocates nothing', async () => {
    const dry = await server.kubectl(['create', '-f', '-', '--dry-run=server', '-o', 'json'], {
      input: manifest('dry', { type: 'NodePort', clusterIP: '10.96.7.7', ports: [{ port: 80, nodePort: 30777 }] }),
    });
    expect(dry.stderr).toBe('');
    await createOk('wet', { type: 'NodePort', clusterIP: '10.96.7.7', ports: [{ port: 80, nodePort: 30777 }] });
  });
});

describe("kube-apiserver 1.32's answers", () => {
  test('duplicate port, duplicate and missing port names, bad port and targetPort', async () => {
    expect(await create('dup-port', { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] })).toMatchObject({
      stderr: invalid(
        'dup-port',
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
      ),
    });
    // The same port number over another protocol is fine.
    await createOk('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] });
    expect(await create('dup-name', { ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] })).toMatchObject({
      stderr: invalid('dup-name', 'spec.ports[1].name: Duplicate value: "a"'),
    });
    const unnamed = await create('unnamed', { ports: [{ port: 80 }, { name: 'b', port: 81 }] });
    expect(unnamed.stderr).toBe(invalid('unnamed', 'spec.ports[0].name: Required value'));
    const ranges = await create('ranges', { ports: [{ name: 'a', port: 70000 }, { name: 'b', port: 81, targetPort: 'Bad_Name' }, { name: 'c', port: 82, targetPort: -1 }] });
    expect(ranges.stderr).toBe(
      [
        'The Service "ranges" is invalid: ',
        '* spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
        '* spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
        '* spec.ports[1].targetPort: Invalid value: "Bad_Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        '* spec.ports[2].targetPort: Invalid value: -1: must be between 1 and 65535, inclusive',
        '',
      ].join('\n'),
    );
    for (const name of ['dup-port', 'dup-name', 'unnamed', 'ranges']) await notStored(name);
  });

  test('node ports: out of range, already allocated, on a ClusterIP Service', async () => {
    expect(await create('far-port', { type: 'NodePort', ports: [{ port: 80, nodePort: 40000 }] })).toMatchObject({
      stderr: invalid('far-port', 'spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767'),
    });
    await createOk('holder', { type: 'NodePort', ports: [{ port: 80, nodePort: 30200 }] });
    expect(await create('taker', { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30200 }] })).toMatchObject({
      stderr: invalid('taker', 'spec.ports[0].nodePort: Invalid value: 30200: provided port is already allocated'),
    });
    expect(await create('cip-port', { ports: [{ port: 80, nodePort: 30300 }] })).toMatchObject({
      stderr: invalid('cip-port', "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"),
    });
    for (const name of ['far-port', 'taker', 'cip-port']) await notStored(name);
  });

  test('cluster IP outside the service CIDR, not an IP, or changed on update', async () => {
    expect(await create('far-ip', { clusterIP: '10.0.0.1', ports: [{ port: 80 }] })).toMatchObject({
      stderr: invalid(
        'far-ip',
        'spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
      ),
    });
    expect(await create('not-ip', { clusterIP: '10.96.0.300', ports: [{ port: 80 }] })).toMatchObject({
      stderr: invalid('not-ip', 'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'),
    });
    await createOk('moving', { clusterIP: '10.96.9.9', ports: [{ port: 80 }] });
    const patched = await server.kubectl(['patch', 'service', 'moving', '-p', '{"spec":{"clusterIP":"10.96.9.10"}}']);
    expect(patched.stderr).toBe(invalid('moving', 'spec.clusterIPs[0]: Invalid value: []string{"10.96.9.10"}: may not change once set'));
    const headless = await server.kubectl(['patch', 'service', 'moving', '-p', '{"spec":{"clusterIP":"None","clusterIPs":["None"]}}']);
    expect(headless.stderr).toBe(invalid('moving', 'spec.clusterIPs[0]: Invalid value: []string{"None"}: may not change once set'));
    expect((await getSpec('moving'))['clusterIP']).toBe('10.96.9.9');
  });

  test('ExternalName without externalName; NodePort that is headless', async () => {
    expect(await create('no-cname', { type: 'ExternalName' })).toMatchObject({ stderr: invalid('no-cname', 'spec.externalName: Required value') });
    await createOk('cname', { type: 'ExternalName', externalName: 'db.example.com.' });
    const cname = await getSpec('cname');
    expect(cname['clusterIP']).toBeUndefined();
    expect(cname['ipFamilies']).toBeUndefined();
    expect(await create('headless-np', { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] })).toMatchObject({
      stderr: invalid('headless-np', 'spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'),
    });
  });

  test('session affinity and traffic policies', async () => {
    expect(await create('sticky', { sessionAffinity: 'Sticky', ports: [{ port: 80 }] })).toMatchObject({
      stderr: invalid('sticky', 'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'),
    });
    expect(await create('forever', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }, ports: [{ port: 80 }] })).toMatchObject({
      stderr: invalid('forever', 'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400'),
    });
    expect(await create('local', { externalTrafficPolicy: 'Local', ports: [{ port: 80 }] })).toMatchObject({
      stderr: invalid('local', 'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'),
    });
    expect(await create('inside', { internalTrafficPolicy: 'Nearby', ports: [{ port: 80 }] })).toMatchObject({
      stderr: invalid('inside', 'spec.internalTrafficPolicy: Unsupported value: "Nearby": supported values: "Cluster", "Local"'),
    });
    await createOk('lb-local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
    expect((await getSpec('lb-local'))['healthCheckNodePort']).toBeGreaterThanOrEqual(30000);
  });

  test('the Status carries one cause per field error, with its reason', async () => {
    const answer = await post({ sessionAffinity: 'Sticky', ports: [{ port: 80 }, { port: 80 }] }, 'many');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 });
    expect((answer.body['details'] as { causes: unknown[] }).causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports[0].name' },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports[1].name' },
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sticky": supported values: "ClientIP", "None"', field: 'spec.sessionAffinity' },
      {
        reason: 'FieldValueDuplicate',
        message:
          'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
        field: 'spec.ports[1]',
      },
    ]);
    const range = await post({ type: 'NodePort', ports: [{ port: 80, nodePort: 40000 }] }, 'range');
    expect(range.status).toBe(422);
    expect(range.body['message']).toBe(
      'Service "range" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    expect((range.body['details'] as { causes: unknown[] }).causes).toEqual([
      { reason: 'FieldValueInvalid', message: 'Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767', field: 'spec.ports[0].nodePort' },
    ]);
  });
});
