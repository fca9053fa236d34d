import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriLogWriter, LogsServer, type LogLocation } from '@k8ts/kubelet';
import { ApiServerProcess, NatsServerProcess, TestCluster, waitForLeader } from '@k8ts/testkit';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import type { PodStatus } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../client/harness.js';

/**
 * `kubectl logs` end to end over real processes: kubectl → k8ts-apiserver → nats-server → the node's
 * LogsServer, reading log files that CriLogWriter wrote (as the process runtime writes them). The
 * kubelet's part (where a pod's logs are, its containers' statuses) is played by two maps here.
 */
let nats: NatsServerProcess;
let store: TestCluster;
let api: ApiServerProcess;
let connection: NatsConnection;
let server: LogsServer;
let rootDir: string;
const locations = new Map<string, LogLocation>();
const statuses = new Map<string, PodStatus>();
const writers: CriLogWriter[] = [];

const POD = (name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: node-1
  containers:
  - name: app
    image: busybox
  - name: sidecar
    image: busybox
`;

function logDirectoryOf(pod: string): string {
  return join(rootDir, 'pods', `default_${pod}_uid-${pod}`);
}

function writer(pod: string, container: string, restart: number, maxSizeBytes = 1 << 20): CriLogWriter {
  const created = new CriLogWriter(join(logDirectoryOf(pod), container, `${restart}.log`), { maxSizeBytes, maxFiles: 5 });
  writers.push(created);
  return created;
}

const running = (name: string, restartCount = 0, previous = false) => ({
  name,
  image: 'busybox',
  imageID: '',
  ready: true,
  restartCount,
  state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
  ...(previous ? { lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'k8ts://old' } } } : {}),
});

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

beforeAll(async () => {
  rootDir = mkdtempSync(join(tmpdir(), 'node-logs-'));
  nats = await NatsServerProcess.start();
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  api = await ApiServerProcess.start(store.endpoints, { extraArgs: ['--nats-url', nats.url] });
  connection = await connect({ servers: nats.url });
  server = new LogsServer({
    nats: connection,
    nodeName: 'node-1',
    locate: (namespace, pod) => locations.get(`${namespace}/${pod}`),
    podStatus: (namespace, pod) => statuses.get(`${namespace}/${pod}`),
    logger: silentLogger(),
    recheckMs: 200,
  });
  server.start();
  await connection.flush();
  for (const pod of ['chatty', 'pending']) {
    expect((await api.kubectl(['create', '-f', '-'], { input: POD(pod) })).stderr).toBe('');
    locations.set(`default/${pod}`, { podUid: `uid-${pod}`, logDirectory: logDirectoryOf(pod) });
  }
  statuses.set('default/pending', {
    containerStatuses: ['app', 'sidecar'].map((name) => ({ name, image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })),
  });
  statuses.set('default/chatty', { containerStatuses: [running('app', 1, true), running('sidecar')] });
  // The app's first run, then its current one; the sidecar's only run.
  const first = writer('chatty', 'app', 0);
  first.write('stdout', text('first run\n'), new Date(Date.now() - 3 * 3600_000));
  first.write('stderr', text('first run crashed\n'), new Date(Date.now() - 3 * 3600_000));
  await first.close();
  const app = writer('chatty', 'app', 1);
  app.write('stdout', text('an old line\n'), new Date(Date.now() - 2 * 3600_000));
  app.write('stdout', text('hello\n'));
  app.write('stderr', text('warning: low disk\n'));
  app.write('stdout', text('goodbye\n'));
  const sidecar = writer('chatty', 'sidecar', 0);
  sidecar.write('stdout', text('sidecar up\n'));
}, 90_000);

afterAll(async () => {
  await Promise.all(writers.map((open) => open.close()));
  await server?.stop();
  await connection?.close();
  await api?.stop();
  await store?.stop();
  await nats?.stop();
  rmSync(rootDir, { recursive: true, force: true });
});

describe('kubectl logs from the node over NATS', () => {
  test('logs, -c, --tail, --since, --since-time, --timestamps, --limit-bytes', async () => {
    const all = await api.kubectl(['logs', 'chatty', '-c', 'app']);
    expect(all.stderr).toBe('');
    expect(all.stdout).toBe('an old line\nhello\nwarning: low disk\ngoodbye\n');
    expect((await api.kubectl(['logs', 'chatty', '-c', 'app', '--tail', '2'])).stdout).toBe('warning: low disk\ngoodbye\n');
    expect((await api.kubectl(['logs', 'chatty', '-c', 'app', '--since', '1h'])).stdout).toBe('hello\nwarning: low disk\ngoodbye\n');
    const hourAgo = new Date(Date.now() - 3600_000).toISOString();
    expect((await api.kubectl(['logs', 'chatty', '-c', 'app', '--since-time', hourAgo])).stdout).toBe('hello\nwarning: low disk\ngoodbye\n');
    const stamped = await api.kubectl(['logs', 'chatty', '-c', 'sidecar', '--timestamps']);
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z sidecar up\n$/);
    expect((await api.kubectl(['logs', 'chatty', '-c', 'app', '--limit-bytes', '8'])).stdout).toBe('an old l');
  });

  test('--previous reads the previous restart; none, or a waiting container, get the kubelet\'s message', async () => {
    expect((await api.kubectl(['logs', 'chatty', '-c', 'app', '--previous'])).stdout).toBe('first run\nfirst run crashed\n');
    const none = await api.kubectl(['logs', 'chatty', '-c', 'sidecar', '--previous']);
    expect(none.stderr).toContain('previous terminated container "sidecar" in pod "chatty" not found');
    const waiting = await api.kubectl(['logs', 'pending', '-c', 'app']);
    expect(waiting.stderr).toContain('container "app" in pod "pending" is waiting to start: ContainerCreating');
  });

  test('--all-containers: kubectl asks for each container in turn', async () => {
    const both = await api.kubectl(['logs', 'chatty', '--all-containers', '--prefix']);
    expect(both.stderr).toBe('');
    expect(both.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        '[pod/chatty/app] an old line',
        '[pod/chatty/app] goodbye',
        '[pod/chatty/app] hello',
        '[pod/chatty/app] warning: low disk',
        '[pod/chatty/sidecar] sidecar up',
      ].sort(),
    );
  });

  test('-f streams as the container writes, across rotations, and ends once it has exited', async () => {
    const follower = writer('chatty', 'sidecar', 1, 400);
    statuses.set('default/chatty', { containerStatuses: [running('app', 1, true), running('sidecar', 1, true)] });
    follower.write('stdout', text('follow 0\n'));
    const kubectl = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'logs', '-f', 'chatty', '-c', 'sidecar'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    kubectl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    kubectl.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const exited = new Promise<number | null>((done) => kubectl.on('exit', done));
    await until(() => output === 'follow 0\n', `the first line (stderr: ${errors})`);
    for (let n = 1; n <= 40; n++) {
      follower.write('stdout', text(`follow ${n}\n`));
      // Some lines at a time, so that each is seen before the file it went to is rotated away.
      if (n % 5 === 0) await until(() => output.endsWith(`follow ${n}\n`), `line ${n}`);
    }
    expect(follower.stats().rotations).toBeGreaterThan(2);
    // The container exits: the node ends the stream once the file is drained, and kubectl returns.
    await follower.close();
    statuses.set('default/chatty', {
      containerStatuses: [running('app', 1, true), { ...running('sidecar', 1, true), state: { terminated: { exitCode: 0, containerID: 'k8ts://new' } } }],
    });
    expect(await exited).toBe(0);
    expect(output).toBe(Array.from({ length: 41 }, (_, n) => `follow ${n}\n`).join(''));
    await until(() => server.activeStreams === 0, 'the stream to end on the node');
  });

  test('a follow of a quiet container is answered at once, before it writes anything', async () => {
    locations.set('default/quiet', { podUid: 'uid-quiet', logDirectory: logDirectoryOf('quiet') });
    statuses.set('default/quiet', { containerStatuses: [running('app')] });
    const inbox = createInbox();
    const answers = connection.subscribe(inbox);
    connection.publish('k8ts.node.node-1.logs', JSON.stringify({ namespace: 'default', pod: 'quiet', container: 'app', follow: true, previous: false, timestamps: false, cancel: `${inbox}.cancel` }), { reply: inbox });
    const received: { data: string; status: string | undefined }[] = [];
    const reading = (async () => {
      for await (const answer of answers) {
        received.push({ data: new TextDecoder().decode(answer.data), status: answer.headers?.get('K8ts-Status') || undefined });
        if (answer.headers?.get('K8ts-Status')) break;
      }
    })();
    await until(() => received.length === 1, 'the first answer');
    expect(received[0]).toEqual({ data: '', status: undefined });
    const quiet = writer('quiet', 'app', 0);
    quiet.write('stdout', text('finally\n'));
    await until(() => received.some((answer) => answer.data === 'finally\n'), 'the first line');
    connection.publish(`${inbox}.cancel`);
    await reading;
    expect(received.at(-1)?.status).toBe('end');
    await until(() => server.activeStreams === 0, 'the follow to end');
  });

  test('kubectl going away cancels the follow on the node', async () => {
    statuses.set('default/chatty', { containerStatuses: [running('app', 1, true), running('sidecar')] });
    const kubectl = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'logs', '-f', 'chatty', '-c', 'app'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    kubectl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until(() => output.endsWith('goodbye\n') && server.activeStreams === 1, 'the follow to start');
    kubectl.kill('SIGINT');
    await until(() => server.activeStreams === 0, 'the node to stop the follow');
  });
});
