import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadEtcdApi, type RangeRequest, type RangeResponse } from '@k8ts/proto';
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
    expect(await failure(channel(port).call(range, { key: Buffer.from('k') }, 5000))).toEqual({
      code: grpc.status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted — 100%',
    });
  });

  it('gives up at the deadline with DEADLINE_EXCEEDED', async () => {
    const port = await kvServer(() => undefined);
    expect(await failure(channel(port).call(range, { key: Buffer.from('k') }, 300))).toEqual({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
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
    expect(error).toEqual({ code: grpc.status.UNKNOWN, details: 'the server answered HTTP 404' });
  });
});
