import { describe, expect, it } from 'vitest';
import type { ConfigMap, Container, Pod, Secret, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError, makeContainerConfig, type ContainerConfigInput } from './container_config.js';
import type { ObjectLookup } from './object_lookup.js';

function service(namespace: string, name: string, clusterIP: string, ports: ServicePort[]): Service {
  return { metadata: { namespace, name }, spec: { clusterIP, ports } };
}

function lookupOf(objects: { configMaps?: ConfigMap[]; secrets?: Secret[]; services?: Service[] }): ObjectLookup {
  const find = <T extends { metadata?: { namespace?: string; name?: string } }>(list: T[] | undefined, ns: string, name: string) =>
    list?.find((o) => o.metadata?.namespace === ns && o.metadata?.name === name);
  return {
    configMap: (ns, name) => find(objects.configMaps, ns, name),
    secret: async (ns, name) => find(objects.secrets, ns, name),
    services: (ns) => (objects.services ?? []).filter((s) => s.metadata?.namespace === ns),
  };
}

function podWith(container: Container, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web-1', namespace: 'shop', uid: 'uid-1', labels: { app: 'web', tier: 'front' }, annotations: { note: 'a "quoted" one' } },
    spec: { nodeName: 'node-a', serviceAccountName: 'default', containers: [container], ...spec },
  };
}

function input(container: Container, lookup: ObjectLookup = lookupOf({}), spec: Partial<Pod['spec']> = {}): ContainerConfigInput {
  return {
    pod: podWith(container, spec),
    container,
    restartCount: 2,
    podIPs: ['10.1.0.5', 'fd00::5'],
    hostIP: '192.168.1.10',
    nodeName: 'node-a',
    logPath: '/var/log/pods/x/c/2.log',
    mounts: { app: [{ hostPath: '/data/v', containerPath: '/v', readOnly: true }] },
    lookup,
  };
}

const envOf = async (i: ContainerConfigInput) => Object.fromEntries((await makeContainerConfig(i)).env.map((e) => [e.name, e.value]));

describe('makeContainerConfig', () => {
  it('expands command and args against the final environment, env entries referencing earlier ones', async () => {
    const config = await makeContainerConfig(
      input({
        name: 'app',
        image: 'busybox',
        command: ['sh', '-c', 'echo $(GREETING) $$(GREETING) $(UNKNOWN)'],
        args: ['$(LATER)'],
        env: [
          { name: 'WHO', value: 'world' },
          { name: 'GREETING', value: 'hello $(WHO)' },
          { name: 'BEFORE', value: '$(LATER)' },
          { name: 'LATER', value: 'late' },
        ],
        workingDir: '/work',
        stdin: true,
        tty: true,
      }),
    );
    expect(config.command).toEqual(['sh', '-c', 'echo hello world $(GREETING) $(UNKNOWN)']);
    expect(config.args).toEqual(['late']);
    expect(config.env.slice(0, 4)).toEqual([
      { name: 'WHO', value: 'world' },
      { name: 'GREETING', value: 'hello world' },
      { name: 'BEFORE', value: '$(LATER)' },
      { name: 'LATER', value: 'late' },
    ]);
    expect(config.workingDir).toBe('/work');
    expect(config.stdin && config.tty && !config.stdinOnce).toBe(true);
    expect(config.mounts).toEqual([{ hostPath: '/data/v', containerPath: '/v', readOnly: true }]);
    expect(config.attempt).toBe(2);
  });

  it('takes envFrom ConfigMaps and Secrets with prefixes, skipping invalid names with a warning', async () => {
    const lookup = lookupOf({
      configMaps: [{ metadata: { namespace: 'shop', name: 'cfg' }, data: { MODE: 'prod', '1bad': 'x', 'a.b': 'ok' } }],
      secrets: [{ metadata: { namespace: 'shop', name: 'creds' }, data: { PASSWORD: Buffer.from('s3cret').toString('base64') } }],
    });
    const warnings: string[] = [];
    const env = await envOf({
      ...input(
        {
          name: 'app',
          envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'DB_', secretRef: { name: 'creds' } }, { configMapRef: { name: 'absent', optional: true } }],
          env: [{ name: 'MODE', value: 'dev-$(MODE)' }],
        },
        lookup,
      ),
      warn: (reason, message) => warnings.push(`${reason}: ${message}`),
    });
    expect(env).toMatchObject({ MODE: 'dev-prod', 'a.b': 'ok', DB_PASSWORD: 's3cret' });
    expect(env['1bad']).toBeUndefined();
    expect(warnings).toEqual([
      'InvalidEnvironmentVariableNames: Keys [1bad] from the EnvFrom configMap shop/cfg were skipped since they are considered invalid environment variable names.',
    ]);
  });

  it('resolves configMapKeyRef and secretKeyRef, honouring optional', async () => {
    const lookup = lookupOf({
      configMaps: [{ metadata: { namespace: 'shop', name: 'cfg' }, data: { color: 'blue' } }],
      secrets: [{ metadata: { namespace: 'shop', name: 'creds' }, data: { token: Buffer.from('t0k').toString('base64') } }],
    });
    const env = await envOf(
      input(
        {
          name: 'app',
          env: [
            { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
            { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
            { name: 'NOKEY', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
            { name: 'NOMAP', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } },
          ],
        },
        lookup,
      ),
    );
    expect(env).toMatchObject({ COLOR: 'blue', TOKEN: 't0k' });
    expect('NOKEY' in env || 'NOMAP' in env).toBe(false);
  });

  it.each([
    [{ configMapKeyRef: { name: 'x', key: 'k' } }, 'configmap "x" not found'],
    [{ secretKeyRef: { name: 'x', key: 'k' } }, 'secret "x" not found'],
    [{ configMapKeyRef: { name: 'cfg', key: 'k' } }, "couldn't find key k in ConfigMap shop/cfg"],
    [{ secretKeyRef: { name: 'creds', key: 'k' } }, "couldn't find key k in Secret shop/creds"],
    [{ fieldRef: { fieldPath: 'spec.bogus' } }, 'unsupported fieldPath: spec.bogus'],
    [{ resourceFieldRef: { resource: 'limits.gpu' } }, 'unsupported container resource : limits.gpu'],
  ])('fails with upstream message for %j', async (valueFrom, message) => {
    const lookup = lookupOf({
      configMaps: [{ metadata: { namespace: 'shop', name: 'cfg' }, data: {} }],
      secrets: [{ metadata: { namespace: 'shop', name: 'creds' }, data: {} }],
    });
    const failure = makeContainerConfig(input({ name: 'app', env: [{ name: 'V', valueFrom }] }, lookup));
    await expect(failure).rejects.toBeInstanceOf(ContainerConfigError);
    await expect(failure).rejects.toMatchObject({ reason: 'CreateContainerConfigError', message });
  });

  it('fails a missing envFrom ConfigMap that is not optional, and wraps lookup failures', async () => {
    await expect(makeContainerConfig(input({ name: 'app', envFrom: [{ configMapRef: { name: 'cfg' } }] }))).rejects.toMatchObject({
      message: 'configmap "cfg" not found',
    });
    const broken: ObjectLookup = { ...lookupOf({}), services: async () => Promise.reject(new Error('cache not synced')) };
    await expect(makeContainerConfig(input({ name: 'app' }, broken))).rejects.toMatchObject({ name: 'ContainerConfigError', message: 'cache not synced' });
  });

  it('gives the downward API fields', async () => {
    const fields = ['metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['note']", "metadata.labels['none']", 'metadata.labels', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
    const env = await envOf(input({ name: 'app', env: fields.map((fieldPath, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath } } })) }));
    expect(fields.map((_, i) => env[`F${i}`])).toEqual([
      'web-1',
      'shop',
      'uid-1',
      'web',
      'a "quoted" one',
      '',
      'app="web"\ntier="front"',
      'node-a',
      'default',
      '192.168.1.10',
      '192.168.1.10',
      '10.1.0.5',
      '10.1.0.5,fd00::5',
    ]);
  });

  it('gives resource fields with divisors, defaulting an absent limit to the node allocatable', async () => {
    const container: Container = {
      name: 'app',
      resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1500m' } },
      env: [
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
        { name: 'MEM_REQ_MI', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
        { name: 'MEM_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
        { name: 'OTHER_CPU', valueFrom: { resourceFieldRef: { containerName: 'side', resource: 'limits.cpu', divisor: '100m' } } },
      ],
    };
    const base = input(container);
    const pod = { ...base.pod, spec: { containers: [container, { name: 'side', resources: { limits: { cpu: '2' } } }] } };
    const env = await envOf({ ...base, pod, nodeAllocatable: { cpu: '4', memory: '8Gi' } });
    expect(env).toMatchObject({ CPU_LIMIT: '2', CPU_REQ_M: '250', CPU_REQ: '1', MEM_REQ_MI: '64', MEM_LIMIT: String(8 * 2 ** 30), OTHER_CPU: '20' });
  });

  it('adds the Service variables of the namespace and the kubernetes Service, per enableServiceLinks', async () => {
    const lookup = lookupOf({
      services: [
        service('default', 'kubernetes', '10.0.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
        service('default', 'other', '10.0.0.9', [{ port: 80 }]),
        service('shop', 'redis-master', '10.0.0.11', [{ port: 6379, name: 'redis' }, { port: 53, name: 'dns-udp', protocol: 'UDP' }]),
        service('shop', 'headless', 'None', [{ port: 80 }]),
      ],
    });
    const config = await makeContainerConfig(input({ name: 'app', env: [{ name: 'URL', value: 'http://$(REDIS_MASTER_SERVICE_HOST)' }, { name: 'KUBERNETES_PORT', value: 'mine' }] }, lookup));
    const env = config.env.map((e) => `${e.name}=${e.value}`);
    expect(env).toEqual([
      'URL=http://10.0.0.11',
      'KUBERNETES_PORT=mine',
      'KUBERNETES_SERVICE_HOST=10.0.0.1',
      'KUBERNETES_SERVICE_PORT=443',
      'KUBERNETES_SERVICE_PORT_HTTPS=443',
      'KUBERNETES_PORT_443_TCP=tcp://10.0.0.1:443',
      'KUBERNETES_PORT_443_TCP_PROTO=tcp',
      'KUBERNETES_PORT_443_TCP_PORT=443',
      'KUBERNETES_PORT_443_TCP_ADDR=10.0.0.1',
      'REDIS_MASTER_SERVICE_HOST=10.0.0.11',
      'REDIS_MASTER_SERVICE_PORT=6379',
      'REDIS_MASTER_SERVICE_PORT_REDIS=6379',
      'REDIS_MASTER_SERVICE_PORT_DNS_UDP=53',
      'REDIS_MASTER_PORT=tcp://10.0.0.11:6379',
      'REDIS_MASTER_PORT_6379_TCP=tcp://10.0.0.11:6379',
      'REDIS_MASTER_PORT_6379_TCP_PROTO=tcp',
      'REDIS_MASTER_PORT_6379_TCP_PORT=6379',
      'REDIS_MASTER_PORT_6379_TCP_ADDR=10.0.0.11',
      'REDIS_MASTER_PORT_53_UDP=udp://10.0.0.11:53',
      'REDIS_MASTER_PORT_53_UDP_PROTO=udp',
      'REDIS_MASTER_PORT_53_UDP_PORT=53',
      'REDIS_MASTER_PORT_53_UDP_ADDR=10.0.0.11',
    ]);
    const noLinks = await envOf(input({ name: 'app' }, lookup, { enableServiceLinks: false }));
    expect(Object.keys(noLinks).some((name) => name.startsWith('REDIS'))).toBe(false);
    expect(noLinks['KUBERNETES_SERVICE_HOST']).toBe('10.0.0.1');
  });

  it('sets resources, labels and annotations as the kubelet does', async () => {
    const container: Container = {
      name: 'app',
      image: 'k8ts/http-echo',
      resources: { requests: { memory: '128Mi' }, limits: { cpu: '500m', memory: '1Gi' } },
      ports: [{ containerPort: 8080 }],
      lifecycle: { preStop: { exec: { command: ['true'] } } },
    };
    const config = await makeContainerConfig(input(container, lookupOf({}), { terminationGracePeriodSeconds: 30 }));
    expect(config.resources).toEqual({ cpuRequestMillis: 500, cpuLimitMillis: 500, memoryRequestBytes: 128 * 2 ** 20, memoryLimitBytes: 2 ** 30 });
    expect(config.labels).toEqual({
      'io.kubernetes.pod.name': 'web-1',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': 'uid-1',
      'io.kubernetes.container.name': 'app',
    });
    expect(config.annotations).toMatchObject({
      'io.kubernetes.container.restartCount': '2',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': '30',
      'io.kubernetes.container.preStopHandler': '{"exec":{"command":["true"]}}',
      'io.kubernetes.container.ports': '[{"containerPort":8080}]',
    });
    expect(config.annotations['io.kubernetes.container.hash']).toMatch(/^[0-9a-f]{16}$/);
  });
});
