import { spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { ApiServerProcess, LinkProxy, TestCluster, etcdctlOk, freePorts, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually } from '../client/harness.js';

/**
 * The apiserver outlives its store: every store member is killed (kill -9) for 30 s and then started
 * again on its data. Throughout, kubectl and raw HTTP clients list, create and watch. During the
 * outage each request gets a well-formed Status (never a hang, never a crash); once the store is
 * back the apiserver serves lists and writes again, and a watch opened before the outage either
 * goes on delivering or ended with an ERROR event that a relist recovers from.
 */
const OUTAGE_MS = 30_000;
/** A request during the outage must be answered within this (a client's patience, not a target). */
const CLIENT_TIMEOUT_MS = 45_000;

let store: TestCluster;
let api: ApiServerProcess;

beforeAll(async () => {
  store = await TestCluster.start('k8ts');
  await waitForLeader(store.endpoints);
  api = await ApiServerProcess.start(store.endpoints);
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await store?.stop();
}, 30_000);

const configMap = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });

interface Answer {
  /** HTTP status, or 0 when the client gave up (a hang) or could not connect. */
  readonly code: number;
  readonly body: string;
}

/** One plain HTTP request to the apiserver, bounded by `timeoutMs`. */
function call(method: string, path: string, body?: string, timeoutMs = CLIENT_TIMEOUT_MS, server = api.url): Promise<Answer> {
  return new Promise((resolve) => {
    const url = new URL(path, server);
    const req = httpRequest(url, { method, headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: text }));
      res.on('error', (error) => resolve({ code: 0, body: `response failed: ${error.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ code: 0, body: error.message }));
    req.end(body);
  });
}

const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

/** A raw watch: every event line it received, and whether the server ended it. */
function rawWatch(resourceVersion: string, server = api.url): { events: { type: string; object: { metadata?: { name?: string }; code?: number; reason?: string } }[]; ended(): boolean; stop(): void } {
  const events: { type: string; object: { metadata?: { name?: string }; code?: number; reason?: string } }[] = [];
  let ended = false;
  let buffered = '';
  const req = httpRequest(new URL(`${CONFIGMAPS}?watch=1&resourceVersion=${resourceVersion}`, server), (res: IncomingMessage) => {
    res.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') events.push(JSON.parse(line) as (typeof events)[number]);
    });
    res.on('end', () => (ended = true));
    res.on('error', () => (ended = true));
  });
  req.on('error', () => (ended = true));
  req.end();
  return { events, ended: () => ended, stop: () => req.destroy() };
}

/** `kubectl get configmaps -w`: one "TYPE name" line per event. */
function kubectlWatch(): { lines(): string[]; exited(): boolean; stop(): void } {
  const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'get', 'configmaps', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}']);
  let output = '';
  let exited = false;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += `stderr: ${chunk.toString()}`));
  child.on('exit', () => (exited = true));
  return { lines: () => output.split('\n').filter((line) => line !== ''), exited: () => exited, stop: () => child.kill('SIGTERM') };
}

/** "504 Timeout" for a Status body; throws (failing the test) for anything that is not a Status. */
function statusOf(answer: Answer, what: string): string {
  let status: { kind?: string; status?: string; code?: number; reason?: string; message?: string };
  try {
    status = JSON.parse(answer.body) as typeof status;
  } catch {
    throw new Error(`${what}: HTTP ${answer.code} without a Status: ${answer.body.slice(0, 300)}`);
  }
  expect(status, `${what}: ${answer.body}`).toMatchObject({ kind: 'Status', status: 'Failure', code: answer.code });
  expect(typeof status.reason, what).toBe('string');
  expect(status.message, what).toBeTruthy();
  return `${answer.code} ${status.reason}`;
}

/**
 * kubectl's answer during the outage as "kubectl <HTTP code>" from its -v=6 request log (kubectl
 * prints a Status's message in several shapes); fails when kubectl hung or got no HTTP answer.
 */
function kubectlAnswer(result: { code: number; stdout: string; stderr: string }, what: string): string {
  expect(result.code, `${what} hung (killed at the client timeout): ${result.stderr}`).not.toBe(-1);
  expect(result.code, `${what} succeeded during the outage: ${result.stdout}`).not.toBe(0);
  const codes = [...result.stderr.matchAll(/ (?:GET|POST) http\S+ (\d{3}) /g)].map((match) => match[1]);
  expect(codes.length, `${what}: kubectl got no HTTP answer: ${result.stderr.slice(-600)}`).toBeGreaterThan(0);
  const last = codes.at(-1) ?? '';
  expect(Number(last), `${what}: ${result.stderr.slice(-600)}`).toBeGreaterThanOrEqual(429);
  return `kubectl ${last}`;
}

test('30 s without any store member: Status answers during the outage, service again after it', async () => {
  // Before: the apiserver serves, and two watches (raw and kubectl's) are open.
  expect((await call('POST', CONFIGMAPS, configMap('before'))).code).toBe(201);
  const listed = await call('GET', CONFIGMAPS);
  expect(listed.code).toBe(200);
  const listRevision = (JSON.parse(listed.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const raw = rawWatch(listRevision);
  const kubectl = kubectlWatch();
  await eventually(() => kubectl.lines().includes('ADDED before'), 30_000, "kubectl's watch to list");
  expect((await call('POST', CONFIGMAPS, configMap('before-2'))).code).toBe(201);
  await eventually(() => raw.events.some((event) => event.object.metadata?.name === 'before-2'), 30_000, 'the raw watch to see before-2');
  await eventually(() => kubectl.lines().includes('ADDED before-2'), 30_000, "kubectl's watch to see before-2");

  try {
    // The outage: every member killed at once.
    await Promise.all(store.members.map((member) => store.kill(member, 'SIGKILL')));
    const seen = new Map<string, number>();
    const record = (what: string, outcome: string): void => void seen.set(`${what}: ${outcome}`, (seen.get(`${what}: ${outcome}`) ?? 0) + 1);
    const outageEnds = Date.now() + OUTAGE_MS;
    for (let round = 0; Date.now() < outageEnds; round++) {
      const [list, get, create, ready] = await Promise.all([
        call('GET', CONFIGMAPS),
        call('GET', `${CONFIGMAPS}/before`),
        call('POST', CONFIGMAPS, configMap(`during-${round}`)),
        call('GET', '/readyz'),
      ]);
      record('list', statusOf(list, 'list'));
      // A get may be answered from the watch cache (kube's cacher serves a get at resourceVersion
      // "" from etcd, but this server's reads of one object may use its cache): a 200 is fine too.
      record('get', get.code === 200 ? '200 (cached)' : statusOf(get, 'get'));
      record('create', statusOf(create, 'create'));
      record('readyz', String(ready.code));
      const [kubectlList, kubectlCreate] = await Promise.all([
        api.kubectl(['get', 'configmaps', '--request-timeout=40s', '-v=6'], { timeoutMs: CLIENT_TIMEOUT_MS }),
        api.kubectl(['create', 'configmap', `during-kubectl-${round}`, '--request-timeout=40s', '-v=6'], { timeoutMs: CLIENT_TIMEOUT_MS }),
      ]);
      record('kubectl get', kubectlAnswer(kubectlList, 'kubectl get'));
      record('kubectl create', kubectlAnswer(kubectlCreate, 'kubectl create'));
      expect(api.running, `the apiserver ${api.exitReason ?? ''} during the outage\n${api.log}`).toBe(true);
    }
    console.log(`answers during the ${OUTAGE_MS / 1000} s store outage:\n${[...seen].map(([what, count]) => `  ${what} x${count}`).join('\n')}`);
    expect(ready(seen)).toBe(true);

    // The store comes back on its data.
    for (const member of store.members) store.restart(member);
    await waitForLeader(store.endpoints, 60_000);
    await eventually(async () => (await call('GET', CONFIGMAPS, undefined, 10_000)).code === 200, 60_000, 'lists to be served again');
    await eventually(async () => [201, 409].includes((await call('POST', CONFIGMAPS, configMap('after'), 10_000)).code), 60_000, 'writes to be served again');
    expect((await api.kubectl(['create', 'configmap', 'after-kubectl'])).stderr).toBe('');
    const names = (JSON.parse((await call('GET', CONFIGMAPS)).body) as { items: { metadata: { name: string } }[] }).items.map((item) => item.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['before', 'before-2', 'after', 'after-kubectl']));

    // The raw watch: it goes on delivering, or it ended with an ERROR event and a relist recovers.
    await eventually(() => raw.ended() || raw.events.some((event) => event.object.metadata?.name === 'after'), 60_000, 'the raw watch to see "after" or end');
    if (raw.events.some((event) => event.object.metadata?.name === 'after')) {
      expect(raw.events.filter((event) => event.type === 'ERROR')).toEqual([]);
      console.log('the raw watch opened before the outage delivered through it');
    } else {
      const error = raw.events.at(-1);
      expect(error?.type, `the watch ended without an ERROR event: ${JSON.stringify(raw.events)}`).toBe('ERROR');
      console.log(`the raw watch ended with ERROR ${String(error?.object.code)} ${String(error?.object.reason)}; relisting`);
      const relisted = await call('GET', CONFIGMAPS);
      expect(relisted.code).toBe(200);
      const again = rawWatch((JSON.parse(relisted.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
      try {
        expect((await call('POST', CONFIGMAPS, configMap('after-relist'))).code).toBe(201);
        await eventually(() => again.events.some((event) => event.object.metadata?.name === 'after-relist'), 30_000, 'the new watch to deliver');
      } finally {
        again.stop();
      }
    }
    // kubectl's watch: it goes on delivering, or kubectl ended it on the server's ERROR event.
    await eventually(() => kubectl.exited() || kubectl.lines().includes('ADDED after'), 60_000, "kubectl's watch to see \"after\" or end");
    console.log(`kubectl get -w after the outage: ${kubectl.exited() ? `ended: ${kubectl.lines().slice(-2).join(' | ')}` : 'still delivering'}`);
    expect(api.running, `the apiserver ${api.exitReason ?? ''}\n${api.log}`).toBe(true);
  } finally {
    raw.stop();
    kubectl.stop();
  }
}, 300_000);

/** The outage saw at least one answer of every kind of request it made. */
function ready(seen: Map<string, number>): boolean {
  const kinds = new Set([...seen.keys()].map((key) => key.split(':')[0]));
  return ['list', 'get', 'create', 'readyz', 'kubectl get', 'kubectl create'].every((kind) => kinds.has(kind));
}

const revisionOf = (answer: Answer): string => (JSON.parse(answer.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
const namesIn = (answer: Answer): string[] => (JSON.parse(answer.body) as { items: { metadata: { name: string } }[] }).items.map((item) => item.metadata.name);

test('a value the apiserver cannot decode, written behind its back, is left out of its watch cache and the process goes on', async () => {
  const key = '/registry/configmaps/undecodable/broken';
  const listed = await call('GET', CONFIGMAPS);
  expect(listed.code).toBe(200);
  const watch = rawWatch(revisionOf(listed));
  try {
    await etcdctlOk(store.endpoints, ['put', key, '{not json']);
    expect((await call('POST', CONFIGMAPS, configMap('after-undecodable'))).code).toBe(201);
    await eventually(() => watch.events.some((event) => event.object.metadata?.name === 'after-undecodable'), 30_000, 'the watch to deliver past the undecodable value');
    expect(api.running, `the apiserver ${api.exitReason ?? ''}\n${api.log}`).toBe(true);
  } finally {
    watch.stop();
    await etcdctlOk(store.endpoints, ['del', key]);
  }
}, 120_000);

test('the store compacted while the apiserver was cut off from it: its watches end with 410 Expired, and a relist recovers', async () => {
  // A second apiserver reaches the store through proxies the test can cut (the members stay up).
  const ports = await freePorts(store.members.length);
  const proxies = store.members.map((member, i) => new LinkProxy(ports[i] as number, Number(member.endpoint.split(':').at(-1))));
  await Promise.all(proxies.map((proxy) => proxy.start()));
  let cutOff: ApiServerProcess | undefined;
  try {
    cutOff = await ApiServerProcess.start(ports.map((port) => `127.0.0.1:${port}`));
    const server = cutOff.url;
    const listed = await call('GET', CONFIGMAPS, undefined, CLIENT_TIMEOUT_MS, server);
    expect(listed.code).toBe(200);
    const watch = rawWatch(revisionOf(listed), server);
    try {
      expect((await call('POST', CONFIGMAPS, configMap('seen-before-cut'), CLIENT_TIMEOUT_MS, server)).code).toBe(201);
      await eventually(() => watch.events.some((event) => event.object.metadata?.name === 'seen-before-cut'), 30_000, 'the watch to deliver before the cut');

      for (const proxy of proxies) proxy.partition();
      const during = await call('GET', CONFIGMAPS, undefined, CLIENT_TIMEOUT_MS, server);
      console.log(`a list while cut off from the store: ${statusOf(during, 'list while cut off')}`);
      // Meanwhile the store moves on (through the first apiserver) and compacts its history away.
      // Two writes, so that the compaction passes the revision the cut-off cache resumes from.
      expect((await call('POST', CONFIGMAPS, configMap('while-cut-1'))).code).toBe(201);
      expect((await call('POST', CONFIGMAPS, configMap('while-cut'))).code).toBe(201);
      const head = await call('GET', CONFIGMAPS);
      await etcdctlOk(store.endpoints, ['compact', revisionOf(head)]);
      for (const proxy of proxies) proxy.heal();

      await eventually(() => watch.ended(), 60_000, 'the watch to end once the store is reachable again').catch((error: unknown) => {
        throw new Error(`${String(error)}\nevents: ${JSON.stringify(watch.events)}\napiserver log:\n${cutOff?.log ?? ''}`);
      });
      const last = watch.events.at(-1);
      expect(last, JSON.stringify(watch.events)).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });

      // The reflector's answer to 410: list again and watch from the list's version. While the cache
      // relists, a watch is refused (429, as kube's cacher does) or its version is already behind the
      // fresh cache (410): the client lists and watches again, as client-go's reflector does.
      await eventually(async () => {
        const relisted = await call('GET', CONFIGMAPS, undefined, 10_000, server);
        return relisted.code === 200 && namesIn(relisted).includes('while-cut');
      }, 60_000, 'a list that includes what the store did while cut off');
      let delivered = false;
      for (let attempt = 0; !delivered; attempt++) {
        expect(attempt, 'a watch from a fresh list never delivered').toBeLessThan(20);
        const relisted = await call('GET', CONFIGMAPS, undefined, 10_000, server);
        if (relisted.code !== 200) continue;
        const again = rawWatch(revisionOf(relisted), server);
        try {
          const name = `after-compaction-${attempt}`;
          expect((await call('POST', CONFIGMAPS, configMap(name), CLIENT_TIMEOUT_MS, server)).code).toBe(201);
          await eventually(() => again.ended() || again.events.some((event) => event.object.metadata?.name === name), 30_000, `the new watch to deliver ${name} or end`);
          delivered = again.events.some((event) => event.object.metadata?.name === name);
          if (!delivered) console.log(`a watch from a fresh list ended: ${JSON.stringify(again.events.at(-1))}`);
        } finally {
          again.stop();
        }
      }
      expect(cutOff.running, `the apiserver ${cutOff.exitReason ?? ''}\n${cutOff.log}`).toBe(true);
    } finally {
      watch.stop();
    }
  } finally {
    await cutOff?.stop();
    await Promise.all(proxies.map((proxy) => proxy.stop()));
  }
}, 180_000);
