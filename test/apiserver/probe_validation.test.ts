import { type ApiServerProcess, startApiOverStore, type TestCluster } from '@k8ts/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * Probe and lifecycle-hook validation end to end: the real kubectl 1.32 applies pods and a
 * deployment to a k8ts-apiserver over a k8ts-store, and meets kube-apiserver's 422 Invalid answers.
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

const podManifest = (name: string, container: Record<string, unknown>, spec: Record<string, unknown> = {}): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27', ...container }], ...spec },
  });

test('a pod with valid probes and hooks is created', async () => {
  const manifest = podManifest('probed', {
    ports: [{ name: 'http', containerPort: 80 }],
    livenessProbe: { httpGet: { port: 'http', path: '/healthz', httpHeaders: [{ name: 'X-Probe', value: 'k8ts' }] } },
    readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 2 },
    startupProbe: { exec: { command: ['true'] }, failureThreshold: 30 },
    lifecycle: { preStop: { sleep: { seconds: 5 } } },
  });
  const applied = await server.kubectl(['apply', '-f', '-'], { input: manifest });
  expect(applied.stderr).toBe('');
  expect(applied.stdout).toContain('pod/probed created');
  const probe = await server.kubectl(['get', 'pod', 'probed', '-o', 'jsonpath={.spec.containers[0].livenessProbe}']);
  expect(JSON.parse(probe.stdout)).toMatchObject({ httpGet: { port: 'http', path: '/healthz', scheme: 'HTTP' }, successThreshold: 1, timeoutSeconds: 1 });
});

test('kubectl apply of a pod with invalid probes gets 422 Invalid with the field messages', async () => {
  const manifest = podManifest('bad-probes', {
    livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 },
    readinessProbe: { periodSeconds: 5 },
  });
  const applied = await server.kubectl(['apply', '-f', '-'], { input: manifest });
  expect(applied.code).not.toBe(0);
  // kubectl lists a Status's causes one a line, as it does for kube-apiserver's.
  expect(applied.stderr).toBe(
    [
      'The Pod "bad-probes" is invalid: ',
      '* spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
      '* spec.containers[0].readinessProbe: Required value: must specify a handler type',
      '',
    ].join('\n'),
  );
  const missing = await server.kubectl(['get', 'pod', 'bad-probes']);
  expect(missing.stderr).toContain('pods "bad-probes" not found');
});

test('the Status carries one cause per field error', async () => {
  const response = await fetch(`${server.url}/api/v1/namespaces/default/pods`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: podManifest('two-handlers', {
      startupProbe: { exec: { command: ['true'] }, httpGet: { port: 70000 } },
      lifecycle: { preStop: { sleep: { seconds: 40 } } },
    }),
  });
  expect(response.status).toBe(422);
  const status = (await response.json()) as { reason: string; message: string; details: { kind: string; causes: unknown[] } };
  expect(status.reason).toBe('Invalid');
  expect(status.details.causes).toEqual([
    {
      reason: 'FieldValueInvalid',
      message:
        'Invalid value: 40: must be greater than 0 and less than terminationGracePeriodSeconds (30). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.',
      field: 'spec.containers[0].lifecycle.preStop.sleep',
    },
    { reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 handler type', field: 'spec.containers[0].startupProbe.httpGet' },
  ]);
});

test('a deployment template: probes on a plain init container are forbidden, a sidecar may have them', async () => {
  const deployment = (initContainer: Record<string, unknown>): string =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { initContainers: [{ name: 'init', image: 'busybox:1.36', ...initContainer }], containers: [{ name: 'app', image: 'nginx:1.27' }] },
        },
      },
    });
  const readinessProbe = { exec: { command: ['true'] } };
  const plain = await server.kubectl(['apply', '-f', '-'], { input: deployment({ readinessProbe }) });
  expect(plain.code).not.toBe(0);
  expect(plain.stderr).toContain(
    'spec.template.spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
  );
  const sidecar = await server.kubectl(['apply', '-f', '-'], { input: deployment({ readinessProbe, restartPolicy: 'Always' }) });
  expect(sidecar.stderr).toBe('');
  expect(sidecar.stdout).toContain('deployment.apps/web created');
});
