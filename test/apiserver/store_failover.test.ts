import { spawn } from 'node:child_process';
import { ApiServerProcess, TestCluster, etcdctlOk, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * The apiserver rides through the loss of the store's leader: kill -9 it, and kubectl's writes
 * go on (an unknown outcome — "leader changed" — is retried and confirmed by reading the key back),
 * and a watch open across the failover keeps delivering. Cut the leader off from its peers instead
 * (it stays up, its watches open but silent): the apiserver moves to the new leader, watches too.
 */
let store: TestCluster;
let api: ApiServerProcess;

beforeAll(async () => {
  store = await TestCluster.start('k8ts', { proxies: true });
  await waitForLeader(store.endpoints);
  api = await ApiServerProcess.start(store.endpoints);
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await store?.stop();
});

const configMap = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "1"\n`;

let watches = 0;

/**
 * `kubectl get configmaps -w`, one "TYPE name" line per event, once it watches: a marker ConfigMap
 * made before it starts is in its list, and a watch from the list's resourceVersion misses nothing
 * after it. The marker's lines are left out of `lines()`.
 */
async function watchConfigMaps(): Promise<{ lines(): string[]; until(line: string, timeoutMs: number): Promise<void>; stop(): void }> {
  const marker = `watch-ready-${++watches}`;
  expect((await api.kubectl(['create', '-f', '-'], { input: configMap(marker) })).stderr).toBe('');
  const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'get', 'configmaps', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}']);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await eventually(() => output.includes(`ADDED ${marker}\n`), 30_000, `kubectl get -w listing ${marker}`);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  const lines = (): string[] => output.split('\n').filter((line) => line !== '' && !line.includes(' watch-ready-'));
  return {
    lines,
    // Gives up quietly: the caller's assertion on lines() then shows what did arrive.
    until: (line, timeoutMs) => eventually(() => lines().includes(line), timeoutMs).catch(() => undefined),
    stop: () => child.kill('SIGTERM'),
  };
}

async function leaderIndex(among = store.endpoints): Promise<number> {
  for (const [i, endpoint] of store.endpoints.entries()) {
    if (!among.includes(endpoint)) continue;
    const status = JSON.parse(await etcdctlOk([endpoint], ['endpoint', 'status', '-w', 'json'])) as { Status: { header: { member_id: number }; leader: number } }[];
    const [entry] = status;
    if (entry && String(entry.Status.header.member_id) === String(entry.Status.leader)) return i;
  }
  throw new Error('no leader');
}

test('kill -9 of the store leader: kubectl writes go on and a watch keeps delivering', async () => {
  const watch = await watchConfigMaps();
  try {
    expect((await api.kubectl(['create', '-f', '-'], { input: configMap('before') })).stderr).toBe('');
    const leader = store.members[await leaderIndex()];
    await store.kill(leader as NonNullable<typeof leader>);
    const started = Date.now();
    const after = await api.kubectl(['create', '-f', '-'], { input: configMap('after') });
    expect(after.stderr).toBe('');
    expect(after.stdout).toContain('configmap/after created');
    console.log(`store leader killed: kubectl create answered after ${Date.now() - started} ms`);
    expect((await api.kubectl(['label', 'cm', 'before', 'survived=yes'])).stderr).toBe('');
    await watch.until('MODIFIED before', 10_000);
    expect(watch.lines()).toEqual(['ADDED before', 'ADDED after', 'MODIFIED before']);
    // Back to three members for the next test.
    store.launch(leader as NonNullable<typeof leader>);
    await waitForLeader(store.endpoints);
  } finally {
    watch.stop();
  }
});

test('the store leader cut off from its peers: the apiserver follows the new leader, watches included', async () => {
  const watch = await watchConfigMaps();
  try {
    const live = store.members.filter((member) => member.process?.exitCode === null).map((member) => member.endpoint);
    const leader = store.members[await leaderIndex(live)] as (typeof store.members)[number];
    leader.proxy?.partition();
    const started = Date.now();
    const created = await api.kubectl(['create', '-f', '-'], { input: configMap('across-a-cut'), timeoutMs: 60_000 });
    expect(created.stderr).toBe('');
    await watch.until('ADDED across-a-cut', 20_000);
    console.log(`store leader cut off: create answered, and the watch saw it ${Date.now() - started} ms after the cut`);
    expect(watch.lines()).toContain('ADDED across-a-cut');
    leader.proxy?.heal();
  } finally {
    watch.stop();
  }
});
