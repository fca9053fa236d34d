import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import type { ExecResult } from '../runtime/runtime.js';
import { RuntimeError } from '../runtime/runtime.js';
import { ProbeError } from './probe_result.js';
import { runProbe, type ProbeTarget } from './run_probe.js';

const enc = (text: string) => Buffer.from(text);
const noExec = () => Promise.reject(new Error('no exec here'));

function target(container: Container = { name: 'app' }, execSync: ProbeTarget['execSync'] = noExec): ProbeTarget {
  return { container, containerId: 'c1', podIP: '127.0.0.1', execSync };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('httpGet probes against a real server', () => {
  let server: http.Server;
  let port: number;
  const seen: http.IncomingHttpHeaders[] = [];
  const hanging: http.ServerResponse[] = [];
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      seen.push(request.headers);
      const url = new URL(request.url ?? '/', 'http://x');
      if (url.pathname === '/healthz') return void response.end('ok');
      if (url.pathname === '/fail') return void response.writeHead(500).end('broken');
      if (url.pathname === '/here') return void response.writeHead(302, { location: '/healthz' }).end();
      if (url.pathname === '/away') return void response.writeHead(301, { location: 'http://other.example/' }).end('moved');
      if (url.pathname === '/hang') return void hanging.push(response);
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    hanging.forEach((response) => response.destroy());
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes on 2xx with kube-probe headers, and resolves a named container port', async () => {
    const container: Container = { name: 'app', ports: [{ name: 'http', containerPort: port }] };
    const probe: Probe = { httpGet: { port: 'http', path: '/healthz', httpHeaders: [{ name: 'x-custom', value: 'yes' }] } };
    expect(await runProbe(probe, target(container))).toEqual({ result: 'Success', output: 'ok' });
    expect(seen.at(-1)).toMatchObject({ 'user-agent': 'kube-probe/1.32', accept: '*/*', 'x-custom': 'yes', connection: 'close' });
    await runProbe({ httpGet: { port, path: '/healthz', httpHeaders: [{ name: 'User-Agent', value: 'mine' }, { name: 'Host', value: 'svc.local' }] } }, target());
    expect(seen.at(-1)).toMatchObject({ 'user-agent': 'mine', host: 'svc.local' });
  });

  it('fails with the status code, follows a redirect to the same host, and passes a redirect elsewhere with a warning', async () => {
    expect(await runProbe({ httpGet: { port, path: '/fail' } }, target())).toEqual({ result: 'Failure', output: 'HTTP probe failed with statuscode: 500' });
    expect(await runProbe({ httpGet: { port, path: '/here' } }, target())).toEqual({ result: 'Success', output: 'ok' });
    expect(await runProbe({ httpGet: { port, path: '/away' } }, target())).toEqual({ result: 'Warning', output: 'Probe terminated redirects, Response body: moved' });
  });

  it('words connection and timeout failures as the Go client does', async () => {
    const closed = await closedPort();
    expect(await runProbe({ httpGet: { port: closed, path: '/healthz' } }, target())).toEqual({
      result: 'Failure',
      output: `Get "http://127.0.0.1:${closed}/healthz": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
    expect(await runProbe({ httpGet: { port, path: '/hang' }, timeoutSeconds: 1 }, target())).toEqual({
      result: 'Failure',
      output: `Get "http://127.0.0.1:${port}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
  });

  it('cannot run with a port that does not resolve', async () => {
    await expect(runProbe({ httpGet: { port: 'metrics' } }, target())).rejects.toThrow(new ProbeError('strconv.Atoi: parsing "metrics": invalid syntax'));
    await expect(runProbe({ tcpSocket: { port: 70000 } }, target())).rejects.toThrow('invalid port number: 70000');
  });
});

describe('tcpSocket probes', () => {
  it('pass when a connection opens and fail with the dial error otherwise', async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      expect(await runProbe({ tcpSocket: { port } }, target())).toEqual({ result: 'Success', output: '' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const closed = await closedPort();
    expect(await runProbe({ tcpSocket: { port: closed } }, target())).toEqual({ result: 'Failure', output: `dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  });
});

describe('exec probes through the runtime', () => {
  const reply = (exitCode: number, stdout = '', stderr = ''): ExecResult => ({ exitCode, stdout: enc(stdout), stderr: enc(stderr) });

  it('pass on exit 0, fail with the output otherwise, fail on timeout, and are unknown when the runtime errs', async () => {
    const calls: unknown[] = [];
    const exec = (result: ExecResult | Error) => async (id: string, command: readonly string[], timeout: number) => {
      calls.push([id, command, timeout]);
      if (result instanceof Error) throw result;
      return result;
    };
    const probe: Probe = { exec: { command: ['cat', '/tmp/healthy'] }, timeoutSeconds: 3 };
    expect(await runProbe(probe, target(undefined, exec(reply(0, 'fine'))))).toEqual({ result: 'Success', output: 'fine' });
    expect(calls[0]).toEqual(['c1', ['cat', '/tmp/healthy'], 3]);
    expect(await runProbe(probe, target(undefined, exec(reply(1, '', 'cat: /tmp/healthy: No such file or directory\n'))))).toEqual({
      result: 'Failure',
      output: 'cat: /tmp/healthy: No such file or directory\n',
    });
    const timedOut = new RuntimeError('Internal', 'failed to exec in container: timeout 3s exceeded: context deadline exceeded');
    expect(await runProbe(probe, target(undefined, exec(timedOut)))).toEqual({ result: 'Failure', output: 'command "cat /tmp/healthy" timed out' });
    await expect(runProbe(probe, target(undefined, exec(new RuntimeError('NotRunning', 'container is not running'))))).rejects.toBeInstanceOf(ProbeError);
  });
});

describe('grpc probes against a real grpc.health.v1 server', () => {
  let server: grpc.Server;
  let port: number;
  let bare: grpc.Server;
  let barePort: number;
  const statuses: Record<string, number> = { '': 1, sick: 2 };

  // An object, not the bare string: grpc-js takes a falsy request ("") for a missing one.
  const readService = (buffer: Buffer) => ({ service: buffer.length > 2 && buffer[0] === 0x0a ? buffer.subarray(2, 2 + (buffer[1] ?? 0)).toString() : '' });
  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(
      {
        Check: {
          path: '/grpc.health.v1.Health/Check',
          requestStream: false,
          responseStream: false,
          requestSerialize: (value: { service: string }) => Buffer.from(value.service),
          requestDeserialize: readService,
          responseSerialize: (status: number) => Buffer.from([0x08, status]),
          responseDeserialize: (buffer: Buffer) => buffer[1] ?? 0,
        },
      },
      {
        Check: (call: grpc.ServerUnaryCall<{ service: string }, number>, callback: grpc.sendUnaryData<number>) => {
          const status = statuses[call.request.service];
          if (status === undefined) return callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
          callback(null, status);
        },
      },
    );
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    bare = new grpc.Server();
    barePort = await new Promise<number>((resolve, reject) => bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  });
  afterAll(() => {
    server.forceShutdown();
    bare.forceShutdown();
  });

  it('passes on SERVING and fails on other statuses and errors with upstream messages', async () => {
    expect(await runProbe({ grpc: { port } }, target())).toEqual({ result: 'Success', output: 'service healthy' });
    expect(await runProbe({ grpc: { port, service: 'sick' } }, target())).toEqual({ result: 'Failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    expect(await runProbe({ grpc: { port, service: 'nobody' } }, target())).toEqual({
      result: 'Failure',
      output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
    });
    const unimplemented = await runProbe({ grpc: { port: barePort } }, target());
    expect(unimplemented.result).toBe('Failure');
    expect(unimplemented.output).toMatch(/^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
  });

  it('fails to connect within the timeout', async () => {
    const closed = await closedPort();
    expect(await runProbe({ grpc: { port: closed }, timeoutSeconds: 1 }, target())).toEqual({
      result: 'Failure',
      output: `timeout: failed to connect service "127.0.0.1:${closed}" within 1s: context deadline exceeded`,
    });
  });
});
