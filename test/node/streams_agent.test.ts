import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServerProcess, NatsServerProcess, NodeAgentProcess, TestCluster, freePorts, waitForLeader } from '@k8ts/testkit';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * kubectl exec, cp and port-forward as a user meets them: a real store, k8ts-apiserver (--nats-url),
 * nats-server and a k8ts-node-agent running the pod's containers with the process runtime
 * (k8ts/http-echo and busybox as processes). Nothing here is a stand-in.
 */
const NODE = 'streams-node';
let nats: NatsServerProcess;
let store: TestCluster;
let api: ApiServerProcess;
let agent: NodeAgentProcess;
let workDir: string;
let echoPort: number;

const POD = (port: number): string => `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeName: ${NODE}
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: echo
    image: k8ts/http-echo
    args: ["-listen=:${port}"]
    env:
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
  - name: shell
    image: busybox
    command: ["sh", "-c", "sleep 3600"]
  - name: done
    image: busybox
    command: ["true"]
`;

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await check()); waited += 100) {
    if (waited > 90_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

async function pod(name = 'web'): Promise<Pod> {
  return JSON.parse((await api.kubectl(['get', 'pod', name, '-o', 'json'])).stdout || '{}') as Pod;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'node-streams-agent-'));
  const [grpcPort, port] = (await freePorts(2)) as [number, number];
  echoPort = port;
  nats = await NatsServerProcess.start();
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  api = await ApiServerProcess.start(store.endpoints, { extraArgs: ['--grpc-port', String(grpcPort), '--nats-url', nats.url] });
  agent = await NodeAgentProcess.start([`127.0.0.1:${grpcPort}`], { nodeName: NODE, natsUrl: nats.url, extraArgs: ['--pod-network', 'host'] });
  expect((await api.kubectl(['create', '-f', '-'], { input: POD(echoPort) })).stderr).toBe('');
  const finished = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'finished' }, spec: { nodeName: NODE, restartPolicy: 'Never', containers: [{ name: 'once', image: 'busybox', command: ['true'] }] } };
  expect((await api.kubectl(['create', '-f', '-'], { input: JSON.stringify(finished) })).stderr).toBe('');
  await until(async () => {
    const status = (await pod()).status;
    const done = status?.containerStatuses?.find((c) => c.name === 'done');
    const shell = status?.containerStatuses?.find((c) => c.name === 'shell');
    return status?.phase === 'Running' && done?.state?.terminated !== undefined && shell?.state?.running !== undefined;
  }, 'the pod to run (and its short container to end)');
  await until(async () => (await pod('finished')).status?.phase === 'Succeeded', 'the short pod to complete');
}, 180_000);

afterAll(async () => {
  await api?.kubectl(['delete', 'pod', 'web', 'finished', '--wait=true', '--timeout=30s']).catch(() => undefined);
  await agent?.stop();
  await agent?.cleanUp();
  await api?.stop();
  await store?.stop();
  await nats?.stop();
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

describe('kubectl streams through the apiserver to a node agent', () => {
  test('exec prints the output and exits with the command\'s code; -i carries stdin', async () => {
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

  test('exec into a completed pod gets upstream\'s refusal', async () => {
    const result = await api.kubectl(['exec', 'finished', '--', 'true']);
    expect(result.stderr).toContain('cannot exec into a container in a completed pod; current phase is Succeeded');
    expect(result.code).toBe(1);
  });

  test('cp copies a file in and out (tar through exec)', async () => {
    const source = join(workDir, 'notes.txt');
    writeFileSync(source, 'copied through tar\n'.repeat(500));
    const inside = join(workDir, 'inside.txt');
    expect((await api.kubectl(['cp', source, `web:${inside}`, '-c', 'shell'])).stderr).toBe('');
    const back = join(workDir, 'back.txt');
    const out = await api.kubectl(['cp', `web:${inside}`, back, '-c', 'shell']);
    expect(out.stderr.replace(/tar: Removing leading `\/' from member names\n/, '')).toBe('');
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(source, 'utf8'));
  });

  test('logs -f streams what the container writes as it writes it, and ends when the container exits', async () => {
    const go = join(workDir, 'go');
    const talker = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'talker' }, spec: { nodeName: NODE, restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', `echo one; until [ -e ${go} ]; do sleep 0.1; done; echo two`] }] } };
    expect((await api.kubectl(['create', '-f', '-'], { input: JSON.stringify(talker) })).stderr).toBe('');
    await until(async () => (await pod('talker')).status?.phase === 'Running', 'talker to run');
    const kubectl = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'logs', '-f', 'talker'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    kubectl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    kubectl.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => kubectl.on('exit', done));
    try {
      await until(() => output === 'one\n', `the first line while the container still runs (${output})`);
      // The second line only comes once the test tells the container (through exec, as a user would).
      expect((await api.kubectl(['exec', 'talker', '--', 'touch', go])).code).toBe(0);
      expect(await exited).toBe(0);
      expect(output).toBe('one\ntwo\n');
    } finally {
      kubectl.kill('SIGINT');
      await api.kubectl(['delete', 'pod', 'talker', '--wait=false']);
    }
  });

  test('port-forward reaches k8ts/http-echo', async () => {
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
