import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiClient } from '@k8ts/client';
import { freePorts } from '@k8ts/testkit';
import { afterEach, expect, test } from 'vitest';
import { ClusterIpProber, PROBER_SCRIPT } from './cluster_ip_prober.js';

/**
 * The prober's own program (as its pod runs it, `node -e`) against a stand-in for the Service, read
 * back by ClusterIpProber as the run reads it: every request recorded with the pod that answered,
 * failures with their cause, nothing read twice, a restarted prober's records kept apart.
 */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function echoServer(): Promise<{ server: Server; port: number; answering: { pod: string | undefined } }> {
  const answering: { pod: string | undefined } = { pod: 'echo-1' };
  const server = createServer((_request, response) => {
    if (answering.pod === undefined) {
      response.writeHead(503).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pod: answering.pod }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cleanups.push(() => server.close());
  return { server, port: (server.address() as AddressInfo).port, answering };
}

function startProber(target: number, port: number): ChildProcess {
  const child = spawn(process.execPath, ['-e', PROBER_SCRIPT], { env: { ...process.env, TARGET: `127.0.0.1:${target}`, PORT: String(port), NODE_NAME: 'node-a' }, stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

test('records each request through the cluster IP with the pod that answered, and failures with their cause; read once each, across a prober restart', async () => {
  const echo = await echoServer();
  const [port] = await freePorts(1);
  const epochAtStartMs = Date.now();
  const prober = new ClusterIpProber({
    client: undefined as unknown as ApiClient, // not used: no pods or Services are created here
    namespace: 'test',
    nodes: new Map([['node-a', '127.0.0.1']]),
    epochAtStartMs: () => epochAtStartMs,
    now: () => Date.now() - epochAtStartMs,
    log: () => undefined,
    readerPort: port as number,
  });
  const first = startProber(echo.port, port as number);
  await prober.ready(20_000);
  prober.start();
  await until('answers from echo-1', () => prober.results().filter((r) => r.ok).length >= 4);

  echo.answering.pod = undefined; // the Service answers 503 for a while
  await until('failed requests', () => prober.results().some((r) => !r.ok));
  echo.answering.pod = 'echo-2';

  await prober.stop(); // everything the first prober recorded, read
  const before = prober.results();
  const countBefore = before.length;
  first.kill('SIGKILL'); // a new prober (a restarted pod): its records count from 1 again, under a new boot
  prober.start();
  startProber(echo.port, port as number);
  await until('answers from echo-2 after the restart', () => prober.results().some((r) => r.answeredBy === 'echo-2') && prober.results().length > countBefore + 4);
  await prober.stop();

  const results = prober.results();
  // The first prober's records survive the second's (same sequence numbers, another boot).
  const atMs = new Set(results.map((r) => r.atMs));
  expect(before.every((r) => atMs.has(r.atMs))).toBe(true);
  expect(results.every((r) => r.via === 'cluster-ip' && r.node === 'node-a' && r.atMs >= 0 && r.doneAtMs >= r.atMs)).toBe(true);
  expect(results.filter((r) => r.ok).map((r) => r.answeredBy)).toEqual(expect.arrayContaining(['echo-1', 'echo-2']));
  expect(results.filter((r) => !r.ok).every((r) => r.error === 'HTTP 503' || r.error === 'ECONNREFUSED')).toBe(true);
  expect(results.some((r) => r.error === 'HTTP 503')).toBe(true);
  // In sent-time order, and no request recorded twice (two boots' sequence numbers overlap).
  expect(results.map((r) => r.atMs)).toEqual([...results.map((r) => r.atMs)].sort((a, b) => a - b));
  expect(new Set(results.map((r) => `${r.atMs}/${r.doneAtMs}`)).size).toBe(results.length);
}, 60_000);
