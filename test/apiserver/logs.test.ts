import { spawn, type ChildProcess } from 'node:child_process';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { ApiServerProcess, TestCluster, freePorts, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * `kubectl logs` through the apiserver, which asks the pod's node over a real NATS server. No node
 * agent exists yet (a later issue), so this test answers on the node's subject the way the agent's
 * protocol says (packages/apiserver/src/pod_logs.ts): log bytes, then an end marker; a follow runs
 * until the apiserver cancels it.
 */
let nats: ChildProcess;
let natsUrl: string;
let store: TestCluster;
let api: ApiServerProcess;
let node: NatsConnection;
const requests: Record<string, unknown>[] = [];
let followsCancelled = 0;

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  containers:
  - name: app
    image: busybox
`;

beforeAll(async () => {
  const [port] = (await freePorts(1)) as [number];
  natsUrl = `nats://127.0.0.1:${port}`;
  nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  store = await TestCluster.start('k8ts', { size: 1 });
  await waitForLeader(store.endpoints);
  api = await ApiServerProcess.start(store.endpoints, { extraArgs: ['--nats-url', natsUrl] });
  node = await connect({ servers: natsUrl });
  // The stand-in node agent of node-1.
  node.subscribe('k8ts.node.node-1.logs', {
    callback: (_error, message) => {
      const request = JSON.parse(new TextDecoder().decode(message.data)) as { follow: boolean; tailLines?: number; cancel: string };
      requests.push(request);
      const lines = ['one\n', 'two\n', 'three\n'].slice(request.tailLines === undefined ? 0 : -request.tailLines);
      for (const line of lines) message.respond(line);
      if (!request.follow) {
        const end = headers();
        end.set('K8ts-Status', 'end');
        message.respond('', { headers: end });
        return;
      }
      let n = 0;
      const timer = setInterval(() => message.respond(`more ${n++}\n`), 100);
      node.subscribe(request.cancel, {
        max: 1,
        callback: () => {
          clearInterval(timer);
          followsCancelled++;
        },
      });
    },
  });
  await node.flush();
  const created = await api.kubectl(['create', '-f', '-'], { input: POD });
  expect(created.stderr).toBe('');
}, 60_000);

afterAll(async () => {
  await node?.close();
  await api?.stop();
  await store?.stop();
  nats?.kill('SIGTERM');
});

describe('kubectl logs over NATS', () => {
  test('a pod with no node has no logs yet', async () => {
    const result = await api.kubectl(['logs', 'chatty']);
    expect(result.stderr).toContain('pod chatty does not have a host assigned');
  });

  test('logs, --tail and -f come from the node agent', async () => {
    const bound = await fetch(`${api.url}/api/v1/namespaces/default/pods/chatty/binding`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'chatty' }, target: { kind: 'Node', name: 'node-1' } }),
    });
    expect(bound.status).toBe(201);

    const all = await api.kubectl(['logs', 'chatty']);
    expect(all.stdout).toBe('one\ntwo\nthree\n');
    const tail = await api.kubectl(['logs', 'chatty', '--tail', '1']);
    expect(tail.stdout).toBe('three\n');
    expect(requests.at(-1)).toMatchObject({ namespace: 'default', pod: 'chatty', container: 'app', tailLines: 1, follow: false });

    // -f streams until kubectl goes away; then the apiserver cancels the follow on the node.
    const follow = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'logs', 'chatty', '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    follow.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((done) => follow.on('exit', done));
    try {
      await eventually(() => /more 1\n/.test(output), 30_000, 'two lines the node wrote after the request');
      expect(output).toMatch(/^one\ntwo\nthree\nmore 0\nmore 1\n/);
    } finally {
      follow.kill('SIGTERM');
      await exited;
    }
    await eventually(() => followsCancelled > 0, 30_000, "the apiserver's cancel of the follow on the node");
    expect(followsCancelled).toBe(1);
  });

  test('a container the pod does not have, and a node nobody answers for', async () => {
    const wrong = await api.kubectl(['logs', 'chatty', '-c', 'sidecar']);
    expect(wrong.stderr).toContain('container sidecar is not valid for pod chatty');
    const orphan = POD.replace('chatty', 'orphan').replace('spec:\n', 'spec:\n  nodeName: node-9\n');
    expect((await api.kubectl(['create', '-f', '-'], { input: orphan })).stderr).toBe('');
    const unanswered = await api.kubectl(['logs', 'orphan']);
    expect(unanswered.stderr).toContain('no node agent answers for node "node-9"');
  });
});
