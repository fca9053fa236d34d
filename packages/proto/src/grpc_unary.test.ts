import http2 from 'node:http2';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadEtcdApi } from './load.js';
import type { RangeRequest, RangeResponse } from './etcd_types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { UnaryChannel, type UnaryError } from './grpc_unary.js';

/**
 * The hand-made unary client against grpc-js's server (the reference implementation of the
 * protocol): answers, statuses with their messages, deadlines, refused and restored connections.
 */
const api = loadEtcdApi();
const range = api.KV.service['Range'] as grpc.MethodDefinition<Partial<RangeRequest>, RangeResponse>;
const header = { cluster_id: '1', member_id: '2', revision: '9', raft_term: '3' };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function kvServer(handler: grpc.handleUnaryCall<RangeRequest, unknown>, port = 0): Promise<number> {
  const server = new grpc.Server();
  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>): void => callback({ code: grpc.status.UNIMPLEMENTED });
  server.addService(api.KV.service, { Range: handler, Put: unimplemented, DeleteRange: unimplemented, Txn: unimplemented, Compact: unimplemented });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) => (error ? reject(error) : resolve(actual))),
  );
  cleanups.push(() => server.forceShutdown());
  return bound;
}

function channel(port: number): UnaryChannel {
  const made = new UnaryChannel(`127.0.0.1:${port}`);
  cleanups.push(() => made.close());
  return made;
}

async function failure(call: Promise<unknown>): Promise<UnaryError> {
  try {
    await call;
  } catch (error) {
    return error as UnaryError;
  }
  throw new Error('the call succeeded');
}

describe('UnaryChannel', () => {
  it('sends the request and decodes the answer as grpc-js would', async () => {
    let seen: RangeRequest | undefined;
    const port = await kvServer((call, callback) => {
      seen = call.request;
      callback(null, { header, kvs: [{ key: Buffer.from('k'), value: Buffer.from('v'), create_revision: '4', mod_revision: '9', version: '2', lease: '0' }], more: false, count: '1' });
    });
    const answer = await channel(port).call(range, { key: Buffer.from('k'), limit: '5' }, 5000);
    expect(seen?.key.toString()).toBe('k');
    expect(seen?.limit).toBe('5');
    expect(answer.header?.revision).toBe('9');
    expect(answer.count).toBe('1');
    expect(answer.kvs[0]?.value.toString()).toBe('v');
    expect(answer.kvs[0]?.mod_revision).toBe('9');
  });

  it('passes a failed call on with its code and message, percent-encoding undone', async () => {
    const port = await kvServer((_call, callback) => callback({ code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted — 100%' }));
    expect(await failure(channel(port).call(range, { key: Buffer.from('k') }, 5000))).toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted — 100%',
    });
  });

  it('lets the calls in flight finish when closed, as grpc-js does, and opens a new connection for a call after', async () => {
    const waiting: grpc.sendUnaryData<unknown>[] = [];
    const port = await kvServer((_call, callback) => waiting.push(callback));
    const client = channel(port);
    const inFlight = client.call(range, { key: Buffer.from('k') }, 5000);
    while (waiting.length === 0) await new Promise((resolve) => setImmediate(resolve));
    client.close();
    waiting[0]?.(null, { header, kvs: [], more: false, count: '0' });
    expect((await inFlight).count).toBe('0');
    const after = client.call(range, { key: Buffer.from('k') }, 5000);
    while (waiting.length === 1) await new Promise((resolve) => setImmediate(resolve));
    waiting[1]?.(null, { header, kvs: [], more: false, count: '1' });
    expect((await after).count).toBe('1');
  });

  it('gives up at the deadline with DEADLINE_EXCEEDED', async () => {
    const port = await kvServer(() => undefined);
    expect(await failure(channel(port).call(range, { key: Buffer.from('k') }, 300))).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
  });

  it('fails UNAVAILABLE while nothing listens, and connects again once something does', async () => {
    const port = await kvServer(() => undefined);
    cleanups.splice(0).forEach((cleanup) => cleanup()); // the server goes away; its port is now free
    const client = channel(port);
    expect((await failure(client.call(range, { key: Buffer.from('k') }, 2000))).code).toBe(grpc.status.UNAVAILABLE);
    await kvServer((_call, callback) => callback(null, { header, kvs: [], more: false, count: '0' }), port);
    expect((await client.call(range, { key: Buffer.from('k') }, 2000)).count).toBe('0');
  });

  it('refuses an answer that is not gRPC', async () => {
    const server = http2.createServer((_request, response) => response.writeHead(404).end('not here'));
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => server.close());
    const error = await failure(channel((server.address() as AddressInfo).port).call(range, { key: Buffer.from('k') }, 2000));
    expect(error).toMatchObject({ code: grpc.status.UNKNOWN, details: 'the server answered HTTP 404' });
  });

  /** An HTTP/2 server that starts a gRPC answer, then does `then` to it: a raw one, to control the connection. */
  async function halfAnswering(then: (stream: http2.ServerHttp2Stream, socket: Socket) => void): Promise<number> {
    const server = http2.createServer();
    let socket: Socket | undefined;
    server.on('connection', (made: Socket) => (socket = made));
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(Buffer.from([0, 0, 0, 0, 9])); // a message's header, its body never sent
      setImmediate(() => then(stream, socket as Socket));
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => server.close());
    return (server.address() as AddressInfo).port;
  }

  it('fails UNAVAILABLE when the connection drops under a call (a killed server), so the caller moves on', async () => {
    const port = await halfAnswering((_stream, socket) => socket.destroy());
    expect(await failure(channel(port).call(range, { key: Buffer.from('k') }, 5000))).toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('fails UNKNOWN when a live server ends the call without a status', async () => {
    const port = await halfAnswering((stream) => stream.end());
    expect(await failure(channel(port).call(range, { key: Buffer.from('k') }, 5000))).toMatchObject({ code: grpc.status.UNKNOWN, details: 'the server ended the call without a status' });
  });

  it('hands on the metadata a failed call came with (text and binary values)', async () => {
    const port = await kvServer((_call, callback) => {
      const metadata = new grpc.Metadata();
      metadata.set('k8ts-status-bin', Buffer.from('{"reason":"NotFound"}'));
      metadata.set('note', 'kept');
      callback({ code: grpc.status.NOT_FOUND, details: 'not found', metadata });
    });
    const error = await failure(channel(port).call(range, { key: Buffer.from('k') }, 5000));
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(Buffer.from(error.metadata.get('k8ts-status-bin')[0] as Buffer).toString()).toBe('{"reason":"NotFound"}');
    expect(error.metadata.get('note')).toEqual(['kept']);
  });

  it('leaves a peer that stops answering (no keepalive ack) with UNAVAILABLE, long before the deadline', async () => {
    // A TCP listener that accepts and then says nothing: no HTTP/2 settings, no ping acks, as a
    // paused process or a cut-off host looks from here.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const made = new UnaryChannel(`127.0.0.1:${(silent.address() as AddressInfo).port}`, { keepaliveMs: 50, keepaliveTimeoutMs: 100 });
    cleanups.push(() => made.close());
    // The test times out long before the call's deadline (600 s): only the keepalive can end the call in time.
    expect((await failure(made.call(range, { key: Buffer.from('k') }, 600_000))).code).toBe(grpc.status.UNAVAILABLE);
  });
});
