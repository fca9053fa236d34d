import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcServer, GrpcStatusError, type ServerStreamCall, type ServiceImplementation } from './grpc_server.js';
import { loadEtcdApi } from './load.js';

/**
 * The store's gRPC server against grpc-js's client (an implementation of the protocol that shares
 * nothing with it): answers, statuses and their texts, size limits, compressed requests, streams
 * both ways, and a client that goes away.
 */
const api = loadEtcdApi();
const header = { cluster_id: '1', member_id: '2', revision: '9', raft_term: '3' };
type Wire = Record<string, unknown>;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function serve(services: [grpc.ServiceDefinition, ServiceImplementation][], maxReceiveMessageLength?: number, made?: (server: GrpcServer) => void): Promise<number> {
  const server = new GrpcServer(maxReceiveMessageLength === undefined ? {} : { maxReceiveMessageLength });
  made?.(server);
  for (const [service, implementation] of services) server.addService(service, implementation);
  const listener = createServer((socket) => server.acceptConnection(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.close();
    listener.close();
  });
  return (listener.address() as AddressInfo).port;
}

function client<T extends grpc.Client>(constructor: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => T, port: number, options: grpc.ChannelOptions = {}): T {
  const made = new constructor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  cleanups.push(() => made.close());
  return made;
}

function unaryCall(target: grpc.Client, method: string, request: Wire): Promise<Wire> {
  return new Promise((resolve, reject) => {
    (target as unknown as Record<string, (request: Wire, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Wire) => void) => void>)[method]?.call(
      target,
      request,
      { deadline: Date.now() + 10_000 },
      (error, response) => (error ? reject(error) : resolve(response ?? {})),
    );
  });
}

async function failure(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (error) {
    const { code, details } = error as grpc.ServiceError;
    return { code, details };
  }
  throw new Error('the call succeeded');
}

const rangeOf = (handler: (request: Wire) => Promise<unknown>): [grpc.ServiceDefinition, ServiceImplementation] => [api.KV.service, { Range: handler as (request: unknown) => Promise<unknown> }];

describe('GrpcServer', () => {
  it('answers a unary call, and several at once on one connection', async () => {
    const port = await serve([rangeOf(async (request) => ({ header, count: String(Buffer.from(request['key'] as Buffer).toString().length) }))]);
    const kv = client(api.KV, port);
    const answers = await Promise.all(['a', 'bb', 'ccc'].map((key) => unaryCall(kv, 'Range', { key: Buffer.from(key) })));
    expect(answers.map((answer) => answer['count'])).toEqual(['1', '2', '3']);
    expect((answers[0]?.['header'] as Wire)['revision']).toBe('9');
  });

  it('ends a call with the status a handler fails with, its message intact; anything else thrown is UNKNOWN', async () => {
    let fail: unknown = new GrpcStatusError({ code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: not leader — 100% (ü)' });
    const port = await serve([rangeOf(async () => Promise.reject(fail))]);
    const kv = client(api.KV, port);
    expect(await failure(unaryCall(kv, 'Range', {}))).toEqual({ code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: not leader — 100% (ü)' });
    fail = new Error('boom');
    expect(await failure(unaryCall(kv, 'Range', {}))).toEqual({ code: grpc.status.UNKNOWN, details: 'boom' });
  });

  it("refuses methods it does not serve with grpc-go's texts", async () => {
    const port = await serve([rangeOf(async () => ({ header }))]);
    expect(await failure(unaryCall(client(api.KV, port), 'Put', { key: Buffer.from('k') }))).toEqual({
      code: grpc.status.UNIMPLEMENTED,
      details: 'unknown method Put for service etcdserverpb.KV',
    });
    expect(await failure(unaryCall(client(api.Cluster, port), 'MemberList', {}))).toEqual({ code: grpc.status.UNIMPLEMENTED, details: 'unknown service etcdserverpb.Cluster' });
  });

  it('refuses a request message over the limit RESOURCE_EXHAUSTED, and takes gzip-compressed ones', async () => {
    const port = await serve([rangeOf(async (request) => ({ header, count: String((request['key'] as Buffer).length) }))], 1024);
    const tooLarge = await failure(unaryCall(client(api.KV, port), 'Range', { key: Buffer.alloc(2000, 1) }));
    expect(tooLarge.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(tooLarge.details).toMatch(/^grpc: received message larger than max \(200\d vs\. 1024\)$/);
    // 900 bytes of one value compress far below the limit, and arrive whole.
    const gzip = client(api.KV, port, { 'grpc.default_compression_algorithm': 2 });
    expect((await unaryCall(gzip, 'Range', { key: Buffer.alloc(900, 7) }))['count']).toBe('900');
  });

  it('streams both ways: messages in order, a half-close seen as end, then OK', async () => {
    const port = await serve([
      [
        api.Watch.service,
        {
          Watch: (call: ServerStreamCall) => {
            call.on('data', (request: Wire) => call.write({ header, watch_id: String((request['create_request'] as Wire)['watch_id']), created: true }));
            call.on('end', () => call.end());
          },
        },
      ],
    ]);
    const watch = (client(api.Watch, port) as unknown as { Watch(): grpc.ClientDuplexStream<Wire, Wire> }).Watch();
    const seen: string[] = [];
    const done = new Promise<grpc.StatusObject>((resolve) => watch.on('status', resolve));
    watch.on('data', (response: Wire) => seen.push(String(response['watch_id'])));
    for (const id of [1, 2, 3]) watch.write({ create_request: { key: Buffer.from('k'), watch_id: String(id) } });
    watch.end();
    expect((await done).code).toBe(grpc.status.OK);
    expect(seen).toEqual(['1', '2', '3']);
  });

  it('serves a server-streaming method its one request, and ends it with the status it fails with', async () => {
    const port = await serve([[api.Maintenance.service, { Snapshot: (call: ServerStreamCall) => call.fail({ code: grpc.status.UNIMPLEMENTED, details: `no snapshot (${typeof call.request})` }) }]]);
    const snapshot = (client(api.Maintenance, port) as unknown as { Snapshot(request: Wire): grpc.ClientReadableStream<Wire> }).Snapshot({});
    snapshot.on('data', () => undefined);
    const status = await new Promise<grpc.ServiceError>((resolve) => snapshot.on('error', resolve));
    expect({ code: status.code, details: status.details }).toEqual({ code: grpc.status.UNIMPLEMENTED, details: 'no snapshot (object)' });
  });

  it('sends the metadata a failure carries in its trailers (a "-bin" value base64-encoded)', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-text', 'plain');
    metadata.set('x-status-bin', Buffer.from([0, 1, 2, 250]));
    const port = await serve([rangeOf(() => Promise.reject(new GrpcStatusError({ code: grpc.status.NOT_FOUND, details: 'gone', metadata })))]);
    const kv = client(api.KV, port);
    const received = await new Promise<grpc.ServiceError>((resolve) => {
      (kv as unknown as { Range(request: Wire, callback: (error: grpc.ServiceError | null) => void): void }).Range({ key: Buffer.from('k') }, (error) => resolve(error as grpc.ServiceError));
    });
    expect(received.code).toBe(grpc.status.NOT_FOUND);
    expect(received.metadata.get('x-text')).toEqual(['plain']);
    expect(received.metadata.get('x-status-bin')).toEqual([Buffer.from([0, 1, 2, 250])]);
  });

  it('shuts down gracefully: the call in flight is answered, then the server takes no call', async () => {
    let answer!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let server!: GrpcServer;
    const port = await serve(
      [rangeOf(() => new Promise((resolve) => {
        started();
        answer = () => resolve({ header, kvs: [], more: false, count: '7' });
      }))],
      undefined,
      (made) => (server = made),
    );
    const kv = client(api.KV, port);
    const inFlight = unaryCall(kv, 'Range', { key: Buffer.from('k') });
    await running;
    const down = server.shutdown();
    answer();
    expect((await inFlight)['count']).toBe('7');
    await down;
    expect((await failure(unaryCall(kv, 'Range', { key: Buffer.from('k') }))).code).toBe(grpc.status.UNAVAILABLE);
  });

  it('tells a stream whose client went away: cancelled, then close', async () => {
    const events: string[] = [];
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    let closed!: () => void;
    const over = new Promise<void>((resolve) => (closed = resolve));
    const port = await serve([
      [
        api.Watch.service,
        {
          Watch: (call: ServerStreamCall) => {
            call.on('data', () => opened());
            call.on('cancelled', () => events.push(`cancelled ${String(call.cancelled)}`));
            call.on('close', () => {
              events.push('close');
              closed();
            });
          },
        },
      ],
    ]);
    const watch = (client(api.Watch, port) as unknown as { Watch(): grpc.ClientDuplexStream<Wire, Wire> }).Watch();
    watch.on('error', () => undefined);
    watch.write({ create_request: { key: Buffer.from('k') } });
    await open;
    watch.cancel();
    await over;
    expect(events).toEqual(['cancelled true', 'close']);
  });
});
