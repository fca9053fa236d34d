import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { ApiServerSubject, judgeHttp } from './apiserver_subject.js';
import { formatFailures, fuzzSeed, parseSeeds, type SeedRun } from './fuzz_run.js';

/**
 * The apiserver fuzzer has teeth: pointed at an in-process HTTP server that answers like
 * kube-apiserver (a Status for every refusal, a list with the store's revision), it passes; when
 * one kind of request breaks the server (a handler that throws and drops the connection, a 500
 * without a Status, a refused write that still wrote), the run reports it with the seed that
 * replays it.
 */
type Fault = 'none' | 'drop-on-patch' | 'bare-500-on-update' | 'write-then-refuse-delete';

let server: Server | undefined;

afterEach(async () => {
  const running = server;
  server = undefined;
  if (running !== undefined) await new Promise<void>((resolve) => running.close(() => resolve()));
});

/** A stand-in apiserver: objects in a map, a revision that moves on every write, kube-shaped answers. */
async function startFakeApiServer(fault: Fault): Promise<string> {
  const objects = new Map<string, { uid: string; resourceVersion: string }>();
  let revision = 1;
  const status = (response: ServerResponse, code: number, reason: string): void => {
    response.writeHead(code, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: reason, reason, code }));
  };
  const write = (key: string): void => void objects.set(key, { uid: `uid-${revision}`, resourceVersion: String(++revision) });
  const handle = (request: IncomingMessage, response: ServerResponse, body: string): void => {
    const url = new URL(request.url ?? '/', 'http://fake');
    if (url.pathname === '/healthz') return void response.end('ok');
    const method = request.method ?? 'GET';
    const collection = url.pathname.replace(/\/[^/]+\/(status|scale|binding|log|eviction)$/, '').replace(/\/[^/]+$/, '');
    if (method === 'GET' && !url.searchParams.has('watch')) {
      const items = [...objects.entries()].filter(([key]) => key.startsWith(`${url.pathname}/`)).map(([key, meta]) => ({ metadata: { name: key.slice(url.pathname.length + 1), ...meta } }));
      response.writeHead(200, { 'Content-Type': 'application/json' });
      return void response.end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(revision) }, items }));
    }
    if (method === 'GET') return void response.writeHead(200, { 'Content-Type': 'application/json' }).end();
    if (method === 'PATCH' && fault === 'drop-on-patch') throw new TypeError("Cannot read properties of undefined (reading 'spec')");
    if (method === 'PUT' && fault === 'bare-500-on-update') {
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      return void response.end('Internal Server Error');
    }
    if (method === 'DELETE' && fault === 'write-then-refuse-delete') {
      write(`${collection}/half-written`);
      return status(response, 422, 'Invalid');
    }
    if (method === 'POST' && body.startsWith('{') && !body.includes('"deep"')) {
      write(`${url.pathname}/created-${revision}`);
      response.writeHead(201, { 'Content-Type': 'application/json' });
      return void response.end(body);
    }
    status(response, 400, 'BadRequest');
  };
  const started = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        handle(request, response, Buffer.concat(chunks).toString('utf8'));
      } catch {
        // What an uncaught exception in a handler looks like to the client: no answer at all.
        request.socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
  server = started;
  return `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
}

async function run(subject: ApiServerSubject, seeds: readonly number[]): Promise<SeedRun[]> {
  const runs: SeedRun[] = [];
  for (const seed of seeds) {
    await subject.prepare(seed);
    runs.push(await fuzzSeed(subject, seed, 40));
  }
  return runs;
}

const rerun = (seed: number): string => `FUZZ_SEEDS=${seed}`;

describe('the apiserver fuzzer', () => {
  test('finds nothing wrong with a server that answers every request with a Status or an object', async () => {
    const subject = new ApiServerSubject({ url: await startFakeApiServer('none') });
    const runs = await run(subject, parseSeeds('1-5'));
    expect(formatFailures(runs.flatMap((one) => one.failures), rerun)).toBe('');
    expect(runs.reduce((sum, one) => sum + one.cases, 0)).toBe(200);
  });

  test('reports a handler that throws (a dropped connection), with the seed that replays it', async () => {
    const subject = new ApiServerSubject({ url: await startFakeApiServer('drop-on-patch') });
    const failures = (await run(subject, parseSeeds('1-5'))).flatMap((one) => one.failures);
    const first = failures[0];
    expect(first?.description).toMatch(/: PATCH /);
    expect(first?.problem).toMatch(/^connection dropped: socket hang up/);
    expect(formatFailures(failures, rerun)).toContain(`replay: FUZZ_SEEDS=${String(first?.seed)}`);
    // The same seed alone replays the same failure at the same case.
    const replay = await run(subject, [first?.seed ?? 0]);
    expect(replay[0]?.failures[0]).toEqual(first);
  });

  test('reports a 500 without a Status', async () => {
    const subject = new ApiServerSubject({ url: await startFakeApiServer('bare-500-on-update') });
    const failures = (await run(subject, parseSeeds('1-5'))).flatMap((one) => one.failures);
    expect(failures[0]?.description).toMatch(/: PUT /);
    expect(failures[0]?.problem).toBe('status 500 without a JSON Status (text/plain): "Internal Server Error"');
  });

  test('reports a refused write that changed the state', async () => {
    const subject = new ApiServerSubject({ url: await startFakeApiServer('write-then-refuse-delete') });
    const failures = (await run(subject, parseSeeds('1-5'))).flatMap((one) => one.failures);
    expect(failures[0]?.description).toMatch(/: DELETE /);
    expect(failures[0]?.problem).toMatch(/^failed with code 422 \(Invalid: Invalid\) yet changed the state:\nbefore /);
  });

  test('the judge: a Status must match its HTTP status; upstream plain-text and 5xx answers pass only where kube gives them', () => {
    const status = (code: number, reason: string): string => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message: 'm', code });
    const json = (code: number, body: string) => ({ code, contentType: 'application/json', body });
    const plain = { method: 'GET', malformedTarget: false, futureResourceVersion: false, operation: 'get pods' };
    expect(judgeHttp(plain, json(404, status(404, 'NotFound'))).problem).toBeUndefined();
    expect(judgeHttp(plain, json(404, status(400, 'NotFound'))).problem).toMatch(/malformed Status \(code 400\)/);
    expect(judgeHttp(plain, json(500, status(500, 'InternalError'))).problem).toMatch(/^server error 500/);
    expect(judgeHttp({ ...plain, method: 'PATCH' }, json(500, status(500, ''))).problem).toBeUndefined();
    expect(judgeHttp(plain, json(500, status(500, ''))).problem).toMatch(/no reason/);
    const goRefusal = { code: 400, contentType: 'text/plain; charset=utf-8', body: '400 Bad Request' };
    expect(judgeHttp({ ...plain, malformedTarget: true }, goRefusal).problem).toBeUndefined();
    expect(judgeHttp(plain, goRefusal).problem).toMatch(/without a JSON Status/);
    expect(judgeHttp({ ...plain, futureResourceVersion: true }, json(504, status(504, 'Timeout'))).problem).toBeUndefined();
    expect(judgeHttp(plain, json(504, status(504, 'Timeout'))).problem).toMatch(/^server error 504/);
    expect(judgeHttp(plain, { code: 0, contentType: '', body: '', error: 'no answer within 5000 ms (a hang)' }).problem).toMatch(/a hang/);
  });
});
