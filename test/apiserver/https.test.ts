import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APISERVER_BINARY, TestCluster, freePorts, kubectl, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * k8ts-apiserver on HTTPS with the certificate it generates (as kube-apiserver does without
 * --tls-cert-file): kubectl verifies it against that certificate. Authentication comes in a later
 * issue; a token in the kubeconfig keeps kubectl from prompting for a password meanwhile.
 */
let store: TestCluster;
let server: ChildProcess;
let dir: string;
let port: number;

beforeAll(async () => {
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  [port] = (await freePorts(1)) as [number];
  dir = mkdtempSync(join(tmpdir(), 'apiserver-https-'));
  server = spawn(APISERVER_BINARY, ['--etcd-servers', store.endpoints.join(','), '--bind-address', '127.0.0.1', '--secure-port', String(port), '--cert-dir', join(dir, 'certs')], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await kubectl(kubeconfig(), ['get', '--raw', '/readyz']).catch(() => undefined);
    if (ready?.stdout === 'ok') break;
    if (Date.now() > deadline) throw new Error('apiserver did not serve HTTPS');
    await new Promise((done) => setTimeout(done, 200));
  }
}, 60_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  await store?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function kubeconfig(): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: k8ts',
      '  cluster:',
      `    server: https://127.0.0.1:${port}`,
      `    certificate-authority: ${join(dir, 'certs', 'apiserver.crt')}`,
      'contexts:',
      '- name: k8ts',
      '  context: { cluster: k8ts, user: k8ts }',
      'current-context: k8ts',
      'users:',
      '- name: k8ts',
      '  user: { token: not-checked-yet }',
      '',
    ].join('\n'),
  );
  return path;
}

test('kubectl talks to the apiserver over HTTPS, verifying the generated certificate', async () => {
  const result = await kubectl(kubeconfig(), ['get', 'namespaces']);
  expect(result.stderr).toBe('');
  expect(result.stdout).toMatch(/^default\s+Active\s+\d+s$/m);
});
