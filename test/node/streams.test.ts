import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStreamServer } from '@k8ts/kubelet';
import { ApiServerProcess, NatsServerProcess, TestCluster, freePorts, runCommand, waitForLeader } from '@k8ts/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../client/harness.js';
import { StreamRuntimeDouble } from './stream_runtime_double.js';

/**
 * kubectl exec, cp and port-forward end to end over real processes: kubectl → k8ts-apiserver
 * (WebSocket / SPDY) → nats-server → the node's NodeStreamServer → a runtime. The runtime here runs
 * exec'd commands as plain processes on this machine and forwards ports on loopback.
 */
let nats: NatsServerProcess;
let store: TestCluster;
let api: ApiServerProcess;
let connection: NatsConnection;
let server: NodeStreamServer;
let workDir: string;
let web: Server;
let webPort: number;
const runtime = new StreamRuntimeDouble();
const containers = new Map<string, string>();

const POD = (name: string, node = 'node-1', containerNames = ['app']): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: ${node}
  containers:
${containerNames.map((c) => `  - name: ${c}\n    image: busybox\n`).join('')}`;

async function createRunningPod(name: string, options: { node?: string; containers?: string[]; phase?: string } = {}): Promise<void> {
  const created = await api.kubectl(['create', '-f', '-'], { input: POD(name, options.node, options.containers) });
  expect(created.stderr).toBe('');
  const status = JSON.stringify({ status: { phase: options.phase ?? 'Running' } });
  expect((await api.kubectl(['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', status])).stderr).toBe('');
  for (const container of options.containers ?? ['app']) {
    const id = `${name}-${container}-id`;
    containers.set(`default/${name}/${container}`, id);
    runtime.running.add(id);
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'node-streams-'));
  nats = await NatsServerProcess.start();
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  api = await ApiServerProcess.start(store.endpoints, { extraArgs: ['--nats-url', nats.url] });
  connection = await connect({ servers: nats.url });
  server = new NodeStreamServer({
    nats: connection,
    nodeName: 'node-1',
    runtime: runtime.asRuntime(),
    locate: (namespace, pod, container) => {
      const id = containers.get(`${namespace}/${pod}/${container ?? 'app'}`);
      if (id === undefined && !containers.has(`${namespace}/${pod}/app`)) return undefined;
      return { podUid: `uid-${pod}`, logDirectory: workDir, sandboxId: `sandbox-${pod}`, ...(id ? { containerId: id } : {}) };
    },
    logger: silentLogger(),
  });
  server.start();
  await connection.flush();
  // The "pod's" web server for port-forward.
  [webPort] = (await freePorts(1)) as [number];
  web = createServer((request, response) => response.end(`echo from the pod: ${request.url}`));
  await new Promise<void>((listening) => web.listen(webPort, '127.0.0.1', listening));
  await createRunningPod('box');
  await createRunningPod('duo', { containers: ['app', 'sidecar'] });
  await createRunningPod('done', { phase: 'Succeeded' });
  await createRunningPod('elsewhere', { node: 'node-without-agent' });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await connection?.close();
  await new Promise((closed) => web?.close(closed));
  await api?.stop();
  await store?.stop();
  await nats?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe('kubectl exec through the apiserver and NATS', () => {
  test('prints the output and exits with the command\'s exit code', async () => {
    const result = await api.kubectl(['exec', 'box', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    expect(result.stdout).toBe('hi\n');
    expect(result.stderr).toContain('oops\n');
    expect(result.stderr).toContain('command terminated with exit code 3');
    expect(result.code).toBe(3);
    const ok = await api.kubectl(['exec', 'box', '--', 'echo', 'fine']);
    expect(ok).toMatchObject({ code: 0, stdout: 'fine\n', stderr: '' });
  });

  test('-i carries stdin, to its end', async () => {
    const input = Array.from({ length: 2000 }, (_, n) => `line ${n}\n`).join('');
    const result = await api.kubectl(['exec', '-i', 'box', '--', 'sh', '-c', 'cat; echo end'], { input });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${input}end\n`);
  });

  test('-c picks a container; a wrong one, a stopped one, a completed pod, a node without agent get upstream\'s answers', async () => {
    expect((await api.kubectl(['exec', 'duo', '-c', 'sidecar', '--', 'echo', 'side'])).stdout).toBe('side\n');
    expect((await api.kubectl(['exec', 'duo', '-c', 'nope', '--', 'true'])).stderr).toContain('container nope is not valid for pod duo');
    runtime.running.delete('duo-sidecar-id');
    const stopped = await api.kubectl(['exec', 'duo', '-c', 'sidecar', '--', 'true']);
    expect(stopped.stderr).toContain('unable to upgrade connection: container not found ("sidecar")');
    expect(stopped.code).not.toBe(0);
    runtime.running.add('duo-sidecar-id');
    expect((await api.kubectl(['exec', 'done', '--', 'true'])).stderr).toContain('cannot exec into a container in a completed pod; current phase is Succeeded');
    expect((await api.kubectl(['exec', 'elsewhere', '--', 'true'])).stderr).toContain('no node agent answers for node "node-without-agent"');
    expect((await api.kubectl(['exec', 'missing', '--', 'true'])).stderr).toContain('pods "missing" not found');
  });

  test('over SPDY too (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): output, stdin, exit code', async () => {
    const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
    const result = await runCommand('kubectl', ['--kubeconfig', api.kubeconfig, 'exec', '-i', 'box', '--', 'sh', '-c', 'cat; echo oops >&2; exit 5'], { input: 'typed\n', env });
    expect(result.stdout).toBe('typed\n');
    expect(result.stderr).toContain('oops\n');
    expect(result.stderr).toContain('command terminated with exit code 5');
    expect(result.code).toBe(5);
    const stopped = await runCommand('kubectl', ['--kubeconfig', api.kubeconfig, 'exec', 'duo', '-c', 'nope', '--', 'true'], { env });
    expect(stopped.stderr).toContain('container nope is not valid for pod duo');
  });

  test('kubectl going away stops the exec\'d process on the node', async () => {
    const kubectl: ChildProcess = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'exec', 'box', '--', 'sleep', '300'], { stdio: 'ignore' });
    await until(() => runtime.liveProcesses === 1, 'the exec to start');
    kubectl.kill('SIGKILL');
    await until(() => runtime.liveProcesses === 0, 'the node to stop the process');
  });
});

/** Sends a request asking for an upgrade; resolves with the answer when it is not 101. */
function upgradeRequest(path: string, upgrade: string, body?: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${api.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Connection: 'Upgrade', Upgrade: upgrade, 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' },
    });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ code: response.statusCode ?? 0, body: text }));
    });
    request.on('upgrade', () => reject(new Error('upgraded')));
    request.on('error', reject);
    request.end(body);
  });
}

describe('the apiserver\'s answers to upgrade requests', () => {
  test('a container must be named when a pod has several; the Status says so', async () => {
    const answer = await upgradeRequest('/api/v1/namespaces/default/pods/duo/exec?command=true&stdout=true', 'websocket');
    expect(answer.code).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'a container name must be specified for pod duo, choose one of: [app sidecar]' });
    const noCommand = await upgradeRequest('/api/v1/namespaces/default/pods/box/exec?stdout=true', 'websocket');
    expect(JSON.parse(noCommand.body)).toMatchObject({ code: 400, message: 'you must specify at least 1 command' });
  });

  test('other requests asking for an upgrade (curl --http2 asks for h2c) are served as plain HTTP', async () => {
    const answer = await upgradeRequest('/api/v1/namespaces/default/pods/box', 'h2c');
    expect(answer.code).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Pod', metadata: { name: 'box' } });
  });
});

describe('kubectl exec -it and attach', () => {
  test('-it: a terminal on kubectl\'s side; its size reaches the node; the exit code comes back', async () => {
    // script(1) gives kubectl a pseudo-terminal, as a user's shell would.
    const line = `stty cols 100 rows 30; kubectl --kubeconfig ${api.kubeconfig} exec -it box -- sh -c 'echo in-tty; read line; echo got $line; exit 4'`;
    const script = spawn('script', ['-qfec', line, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    script.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => script.on('exit', done));
    await until(() => output.includes('in-tty') && runtime.resizes.some((size) => size.width === 100 && size.height === 30), `the terminal's size to reach the node (${output})`);
    script.stdin.write('typed\n');
    expect(await exited).toBe(4);
    expect(output).toContain('got typed');
  });

  test('attach shows what the container\'s process writes; kubectl going away detaches on the node', async () => {
    const kubectl = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'attach', 'box', '-c', 'app'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    kubectl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until(() => (runtime.attached.get('box-app-id') ?? []).length === 1, 'the attach to reach the node');
    const io = runtime.attached.get('box-app-id')?.[0];
    io?.stdout?.(Buffer.from('from the main process\n'));
    await until(() => output.includes('from the main process\n'), 'the output to reach kubectl');
    kubectl.kill('SIGINT');
    await until(() => io?.closed.aborted === true, 'the node to detach');
  });
});

describe('kubectl cp (tar through exec)', () => {
  test('copies a file into the container and back out', async () => {
    const source = join(workDir, 'source.txt');
    const content = Array.from({ length: 5000 }, (_, n) => `row ${n}`).join('\n');
    writeFileSync(source, content);
    const into = join(workDir, 'in-container.txt');
    const copiedIn = await api.kubectl(['cp', source, `box:${into}`]);
    expect(copiedIn.stderr, copiedIn.stderr).toBe('');
    expect(readFileSync(into, 'utf8')).toBe(content);
    const out = join(workDir, 'back.txt');
    const copiedOut = await api.kubectl(['cp', `box:${into}`, out]);
    expect(copiedOut.stderr.replace(/tar: Removing leading `\/' from member names\n/, ''), copiedOut.stderr).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(content);
  });
});

describe('kubectl port-forward', () => {
  // kubectl 1.32 tunnels SPDY through a WebSocket; with KUBECTL_PORT_FORWARD_WEBSOCKETS=false it upgrades to SPDY itself.
  test.each([
    ['SPDY over WebSocket', 'true'],
    ['SPDY', 'false'],
  ])('an HTTP GET on the local port reaches the pod\'s port (%s)', async (_name, websockets) => {
    const [local] = (await freePorts(1)) as [number];
    const kubectl = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'port-forward', 'pod/box', `${local}:${webPort}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets },
    });
    let output = '';
    kubectl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    kubectl.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => output.includes('Forwarding from 127.0.0.1'), `kubectl to listen (${output})`);
      for (const path of ['/first', '/second']) {
        const response = await fetch(`http://127.0.0.1:${local}${path}`);
        expect(await response.text()).toBe(`echo from the pod: ${path}`);
      }
      expect(output).not.toContain('error');
    } finally {
      kubectl.kill('SIGINT');
    }
  });

  test('a port nothing listens on: the node\'s error comes back on the error stream', async () => {
    const [local, closed] = (await freePorts(2)) as [number, number];
    const kubectl = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'port-forward', 'pod/box', `${local}:${closed}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    kubectl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    kubectl.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => output.includes('Forwarding from 127.0.0.1'), `kubectl to listen (${output})`);
      await expect(fetch(`http://127.0.0.1:${local}/`)).rejects.toThrow();
      await until(() => output.includes(`an error occurred forwarding ${local} -> ${closed}: error forwarding port ${closed} to pod sandbox-box, uid : failed to connect`), `the error (${output})`);
    } finally {
      kubectl.kill('SIGINT');
    }
  });
});
