import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStreamServer, ProcessRuntime, hostNetwork, type ContainerConfig, type LocatedPod } from '@k8ts/kubelet';
import { ApiServerProcess, NatsServerProcess, TestCluster, freePorts, waitForLeader } from '@k8ts/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../client/harness.js';

/**
 * kubectl exec, cp and port-forward into containers of the process runtime (real processes of
 * k8ts/http-echo and busybox, in their own mount namespaces when root), through k8ts-apiserver,
 * nats-server and NodeStreamServer. The kubelet's part (which pod is which sandbox) is a map here.
 */
let nats: NatsServerProcess;
let store: TestCluster;
let api: ApiServerProcess;
let connection: NatsConnection;
let server: NodeStreamServer;
let runtime: ProcessRuntime;
let rootDir: string;
let echoPort: number;
const located = new Map<string, LocatedPod>();

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeName: node-1
  containers:
  - name: echo
    image: k8ts/http-echo
  - name: shell
    image: busybox
  - name: done
    image: busybox
`;

function containerConfig(logDirectory: string, name: string, image: string, command: string[], args: string[] = []): ContainerConfig {
  return {
    name,
    image,
    attempt: 0,
    command,
    args,
    env: [{ name: 'POD_NAME', value: 'web' }],
    mounts: [],
    logPath: join(logDirectory, name, '0.log'),
    resources: {},
    stdin: false,
    stdinOnce: false,
    tty: false,
    labels: {},
    annotations: {},
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await check()); waited += 50) {
    if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

beforeAll(async () => {
  rootDir = mkdtempSync(join(tmpdir(), 'node-streams-process-'));
  [echoPort] = (await freePorts(1)) as [number];
  nats = await NatsServerProcess.start();
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  api = await ApiServerProcess.start(store.endpoints, { extraArgs: ['--nats-url', nats.url] });
  runtime = new ProcessRuntime({ rootDir, network: hostNetwork('127.0.0.1'), logMaxSizeBytes: 1 << 20, logMaxFiles: 2, logger: silentLogger(), cgroupParent: false });
  const logDirectory = join(rootDir, 'pods', 'default_web_uid-web');
  const sandboxId = await runtime.runPodSandbox({
    uid: 'uid-web',
    name: 'web',
    namespace: 'default',
    attempt: 0,
    hostname: 'web',
    hostNetwork: true,
    logDirectory,
    portMappings: [],
    labels: {},
    annotations: {},
  });
  const start = async (config: ContainerConfig): Promise<string> => {
    await runtime.pullImage(config.image);
    const id = await runtime.createContainer(sandboxId, config);
    await runtime.startContainer(id);
    located.set(config.name, { podUid: 'uid-web', logDirectory, sandboxId, containerId: id });
    return id;
  };
  await start(containerConfig(logDirectory, 'echo', 'k8ts/http-echo', [], [`-listen=:${echoPort}`]));
  await start(containerConfig(logDirectory, 'shell', 'busybox', ['sh', '-c', 'sleep 3600']));
  const done = await start(containerConfig(logDirectory, 'done', 'busybox', ['true']));
  await until(async () => (await runtime.containerStatus(done)).state === 'exited', 'the short container to end');
  connection = await connect({ servers: nats.url });
  server = new NodeStreamServer({
    nats: connection,
    nodeName: 'node-1',
    runtime,
    locate: (namespace, pod, container) => (namespace === 'default' && pod === 'web' ? located.get(container ?? 'echo') : undefined),
    logger: silentLogger(),
  });
  server.start();
  await connection.flush();
  expect((await api.kubectl(['create', '-f', '-'], { input: POD })).stderr).toBe('');
  const running = JSON.stringify({ status: { phase: 'Running' } });
  expect((await api.kubectl(['patch', 'pod', 'web', '--subresource=status', '--type=merge', '-p', running])).stderr).toBe('');
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await connection?.close();
  for (const container of (await runtime?.listContainers().catch(() => [])) ?? []) await runtime.removeContainer(container.id).catch(() => undefined);
  await runtime?.close();
  await api?.stop();
  await store?.stop();
  await nats?.stop();
  rmSync(rootDir, { recursive: true, force: true });
});

describe('streams into process-runtime containers', () => {
  test('kubectl exec runs in the container and returns its exit code; -i carries stdin', async () => {
    const result = await api.kubectl(['exec', 'web', '-c', 'shell', '--', 'sh', '-c', 'echo hi; exit 3']);
    expect(result.stdout).toBe('hi\n');
    expect(result.stderr).toContain('command terminated with exit code 3');
    expect(result.code).toBe(3);
    const echoed = await api.kubectl(['exec', '-i', 'web', '-c', 'shell', '--', 'cat'], { input: 'through the pipe\n' });
    expect(echoed).toMatchObject({ code: 0, stdout: 'through the pipe\n' });
  });

  test('exec into a container that has stopped gets the kubelet\'s answer', async () => {
    const result = await api.kubectl(['exec', 'web', '-c', 'done', '--', 'true']);
    expect(result.stderr).toContain('unable to upgrade connection: container not found ("done")');
    expect(result.code).toBe(1);
  });

  test('kubectl cp in and out', async () => {
    const source = join(rootDir, 'notes.txt');
    writeFileSync(source, 'copied through tar\n'.repeat(500));
    const inside = join(rootDir, 'inside.txt');
    expect((await api.kubectl(['cp', source, `web:${inside}`, '-c', 'shell'])).stderr).toBe('');
    const back = join(rootDir, 'back.txt');
    const out = await api.kubectl(['cp', `web:${inside}`, back, '-c', 'shell']);
    expect(out.stderr.replace(/tar: Removing leading `\/' from member names\n/, '')).toBe('');
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(source, 'utf8'));
  });

  test('kubectl port-forward reaches k8ts/http-echo', async () => {
    const [local] = (await freePorts(1)) as [number];
    const kubectl = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'port-forward', 'pod/web', `${local}:${echoPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    kubectl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    kubectl.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => output.includes('Forwarding from 127.0.0.1'), `kubectl to listen (${output})`);
      const answer = await (await fetch(`http://127.0.0.1:${local}/`)).text();
      expect(answer).toContain('"pod":"web"');
    } finally {
      kubectl.kill('SIGINT');
    }
  });
});
