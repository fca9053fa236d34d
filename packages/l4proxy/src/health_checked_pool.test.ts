import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { FakeClock } from '@k8ts/base';
import { afterEach, describe, expect, test } from 'vitest';
import { FIRST_ATTEMPT, type Backend } from './backend.js';
import { HealthCheckedPool, type HealthCheckedPoolOptions } from './health_checked_pool.js';
import { TcpProxy } from './tcp_proxy.js';
import { closeServer, collect, open, until } from './test_support.js';

/** A real HTTP backend whose /readyz answers `status` (or never answers while `hang`); it names itself in the body. */
interface FakeApiServer {
  readonly backend: Backend;
  status: number;
  hang: boolean;
  readonly paths: string[];
  close(): Promise<void>;
}

async function fakeApiServer(name: string): Promise<FakeApiServer> {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    fake.paths.push(request.url ?? '');
    if (fake.hang) return; // accepted, never answered
    response.writeHead(fake.status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(name) }).end(name);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  const fake: FakeApiServer = { backend: { host: '127.0.0.1', port: address.port }, status: 200, hang: false, paths: [], close: () => closeServer({ server, sockets }) };
  return fake;
}

const INTERVAL_MS = 1_000;
const cleanUps: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

async function setUp(count: number, options: Partial<HealthCheckedPoolOptions> = {}): Promise<{ servers: FakeApiServer[]; pool: HealthCheckedPool; clock: FakeClock; round: () => Promise<void> }> {
  const servers: FakeApiServer[] = [];
  for (let i = 0; i < count; i++) {
    const server = await fakeApiServer(`api-${i}`);
    servers.push(server);
    cleanUps.push(() => server.close());
  }
  const clock = new FakeClock(1_000_000);
  const pool = new HealthCheckedPool({ backends: servers.map((server) => server.backend), intervalMs: INTERVAL_MS, timeoutMs: 500, failureThreshold: 3, successThreshold: 2, clock, ...options });
  cleanUps.push(() => pool.stop());
  pool.start();
  await pool.settled();
  // One more check of every backend: the interval passes, and the checks it starts end.
  const round = async (): Promise<void> => {
    clock.advance(INTERVAL_MS);
    await pool.settled();
  };
  return { servers, pool, clock, round };
}

const upOf = (pool: HealthCheckedPool): boolean[] => pool.statuses().map((status) => status.up);
const client = { address: '127.0.0.1', port: 40000 };

describe('HealthCheckedPool', () => {
  test('checks the health path of every backend, at start and then every interval', async () => {
    const { servers, pool, round } = await setUp(2, { healthPath: '/readyz' });
    expect(servers.map((server) => server.paths)).toEqual([['/readyz'], ['/readyz']]);
    await round();
    await round();
    expect(servers.map((server) => server.paths.length)).toEqual([3, 3]);
    expect(pool.statuses().map((status) => [status.up, status.checks, status.lastResult?.detail])).toEqual([
      [true, 3, 'HTTP 200'],
      [true, 3, 'HTTP 200'],
    ]);
  });

  test('a backend failing its first check is down at once (init-state up); it needs successThreshold passes to come back', async () => {
    const servers = [await fakeApiServer('a'), await fakeApiServer('b')];
    servers.forEach((server) => cleanUps.push(() => server.close()));
    const [a, b] = servers as [FakeApiServer, FakeApiServer];
    b.status = 500;
    const clock = new FakeClock();
    const pool = new HealthCheckedPool({ backends: [a.backend, b.backend], intervalMs: INTERVAL_MS, failureThreshold: 3, successThreshold: 2, clock });
    cleanUps.push(() => pool.stop());
    expect(upOf(pool)).toEqual([true, true]); // before any check, every backend gets traffic
    pool.start();
    await pool.settled();
    expect(upOf(pool)).toEqual([true, false]);
    expect(pool.statuses()[1]?.lastResult).toEqual({ ok: false, detail: 'HTTP 500' });
    b.status = 200;
    clock.advance(INTERVAL_MS);
    await pool.settled();
    expect(upOf(pool)).toEqual([true, false]); // one pass of two
    clock.advance(INTERVAL_MS);
    await pool.settled();
    expect(upOf(pool)).toEqual([true, true]);
  });

  test('an up backend goes down after failureThreshold consecutive failures; a pass in between resets the count', async () => {
    const { servers, pool, round } = await setUp(2);
    const failing = servers[1] as FakeApiServer;
    failing.status = 503;
    await round();
    await round();
    expect(upOf(pool)).toEqual([true, true]);
    failing.status = 200;
    await round();
    failing.status = 503;
    await round();
    await round();
    expect(upOf(pool)).toEqual([true, true]);
    await round();
    expect(upOf(pool)).toEqual([true, false]);
    expect(pool.healthy()).toEqual([servers[0]?.backend]);
  });

  test('a redirect counts as a pass and a 4xx as a failure, as HAProxy httpchk judges them', async () => {
    const { servers, pool, round } = await setUp(2, { failureThreshold: 1 });
    (servers[0] as FakeApiServer).status = 302;
    (servers[1] as FakeApiServer).status = 404;
    await round();
    expect(upOf(pool)).toEqual([true, false]);
  });

  test('a check with no answer within timeoutMs fails (the clock decides, not the wall)', async () => {
    const { servers, pool, clock } = await setUp(1, { failureThreshold: 1, timeoutMs: 300 });
    const hanging = servers[0] as FakeApiServer;
    hanging.hang = true;
    clock.advance(INTERVAL_MS); // the next check starts and waits
    await until('the hanging check to reach the server', () => hanging.paths.length === 2);
    expect(upOf(pool)).toEqual([true]);
    clock.advance(300);
    await pool.settled();
    expect(pool.statuses()[0]).toMatchObject({ up: false, lastResult: { ok: false, detail: 'no answer within 300 ms' } });
  });

  test('a backend that refuses connections goes down, and comes back when it listens again', async () => {
    const { servers, pool, round } = await setUp(2, { failureThreshold: 2, successThreshold: 1 });
    const gone = servers[0] as FakeApiServer;
    await gone.close();
    await round();
    await round();
    expect(pool.statuses()[0]).toMatchObject({ up: false, lastResult: { ok: false, detail: 'ECONNREFUSED' } });
    // A new server on the same port: the pool finds it.
    const back = createServer((_request, response) => response.writeHead(200).end('back'));
    await new Promise<void>((resolve) => back.listen(gone.backend.port, '127.0.0.1', resolve));
    cleanUps.push(() => new Promise((resolve) => back.close(() => resolve())));
    await round();
    expect(upOf(pool)).toEqual([true, true]);
  });

  test('pick: round robin over the up backends, skipping the failed ones; none up → undefined', async () => {
    const { servers, pool, round } = await setUp(3, { failureThreshold: 1 });
    const [a, b, c] = servers.map((server) => server.backend) as [Backend, Backend, Backend];
    expect([1, 2, 3, 4, 5, 6].map(() => pool.pick(client, FIRST_ATTEMPT))).toEqual([a, b, c, a, b, c]);
    (servers[1] as FakeApiServer).status = 500;
    await round();
    expect([1, 2, 3, 4].map(() => pool.pick(client, FIRST_ATTEMPT))).toEqual(expect.arrayContaining([a, c]));
    expect([1, 2, 3, 4].map(() => pool.pick(client, FIRST_ATTEMPT))).not.toContainEqual(b);
    expect(pool.pick(client, { attempt: 1, failed: [a] })).toEqual(c);
    expect(pool.pick(client, { attempt: 2, failed: [a, c] })).toBeUndefined();
    for (const server of servers) server.status = 500;
    await round();
    expect(pool.healthy()).toEqual([]);
    expect(pool.pick(client, FIRST_ATTEMPT)).toBeUndefined();
  });

  test('stop leaves no timer and aborts a check in flight', async () => {
    const { servers, pool, clock } = await setUp(1);
    (servers[0] as FakeApiServer).hang = true;
    clock.advance(INTERVAL_MS);
    await until('the hanging check to reach the server', () => servers[0]?.paths.length === 2);
    await pool.stop();
    expect(clock.pending()).toBe(0);
    expect(pool.statuses()[0]).toMatchObject({ up: true, checks: 1 }); // the aborted check is not counted
  });

  test('a TcpProxy picking from the pool sends connections only to the backends up', async () => {
    const { servers, pool, round } = await setUp(2, { failureThreshold: 1 });
    (servers[0] as FakeApiServer).status = 500;
    await round();
    const proxy = new TcpProxy({ host: '127.0.0.1', port: 0, pickBackend: pool.pick, maxConnections: 10, connectTimeoutMs: 2_000 });
    const { port } = await proxy.listen();
    cleanUps.push(() => proxy.close());
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const socket = await open(port);
      const done = collect(socket);
      socket.end('GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      bodies.push((await done).received.toString().split('\r\n\r\n')[1] ?? '');
    }
    expect(bodies).toEqual(['api-1', 'api-1', 'api-1', 'api-1']);
  });
});
