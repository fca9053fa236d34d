import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadEtcdApi,
  loadRaftTransport,
  type RaftMessage,
  type RangeRequest,
  type RangeResponse,
  type SendAck,
  type WatchRequest,
  type WatchResponse,
} from './index.js';

// Server and client built from the same loaded definitions, over a real loopback socket.

const servers: grpc.Server[] = [];
const clients: grpc.Client[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) server.forceShutdown();
});

async function startServer(add: (server: grpc.Server) => void): Promise<string> {
  const server = new grpc.Server();
  add(server);
  servers.push(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return `127.0.0.1:${port}`;
}

function connect<T extends grpc.Client>(ctor: new (address: string, credentials: grpc.ChannelCredentials) => T, address: string): T {
  const client = new ctor(address, grpc.credentials.createInsecure());
  clients.push(client);
  return client;
}

/** Calls a unary method by name (proto-loader clients are untyped). */
function unary<Res>(client: grpc.Client, method: string, request: object): Promise<Res> {
  const fn = (client as unknown as Record<string, grpc.requestCallback<Res> | undefined>)[method];
  if (typeof fn !== 'function') throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    (fn as unknown as (req: object, cb: grpc.requestCallback<Res>) => void).call(client, request, (error, response) =>
      error ? reject(error) : resolve(response as Res),
    );
  });
}

describe('gRPC round trip with the loaded definitions', () => {
  it('KV.Range: the client gets the canned answer and the server sees the request as sent', async () => {
    const api = loadEtcdApi();
    const seen: RangeRequest[] = [];
    const canned: RangeResponse = {
      header: { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: '7', raft_term: '2' },
      kvs: [
        {
          key: Buffer.from('/registry/pods/default/web'),
          create_revision: '5',
          mod_revision: '7',
          version: '2',
          value: Buffer.from([0x6b, 0x38, 0x73, 0x00]),
          lease: '0',
        },
      ],
      more: true,
      count: '3',
    };
    const address = await startServer((server) =>
      server.addService(api.KV.service, {
        Range(call: grpc.ServerUnaryCall<RangeRequest, RangeResponse>, callback: grpc.sendUnaryData<RangeResponse>) {
          seen.push(call.request);
          callback(null, canned);
        },
      }),
    );

    const kv = connect(api.KV, address);
    const response = await unary<RangeResponse>(kv, 'Range', {
      key: Buffer.from('/registry/pods/'),
      range_end: Buffer.from('/registry/pods0'),
      limit: 1,
      sort_order: 'DESCEND',
      sort_target: 'MOD',
      serializable: true,
    });

    // uint64 values above 2^53 survive because they travel as strings.
    expect(response).toEqual(canned);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      key: Buffer.from('/registry/pods/'),
      range_end: Buffer.from('/registry/pods0'),
      limit: '1',
      revision: '0',
      sort_order: 'DESCEND',
      sort_target: 'MOD',
      serializable: true,
      keys_only: false,
    });
  });

  it('KV.Range errors travel as gRPC status codes with their message', async () => {
    const api = loadEtcdApi();
    const address = await startServer((server) =>
      server.addService(api.KV.service, {
        Range(_call: grpc.ServerUnaryCall<RangeRequest, RangeResponse>, callback: grpc.sendUnaryData<RangeResponse>) {
          callback({ code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' });
        },
      }),
    );
    const kv = connect(api.KV, address);
    await expect(unary(kv, 'Range', { key: Buffer.from('a'), revision: 1 })).rejects.toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
  });

  it('Watch is bidirectional: a create request is answered on the same stream', async () => {
    const api = loadEtcdApi();
    const requests: WatchRequest[] = [];
    const address = await startServer((server) =>
      server.addService(api.Watch.service, {
        Watch(stream: grpc.ServerDuplexStream<WatchRequest, WatchResponse>) {
          stream.on('data', (request: WatchRequest) => {
            requests.push(request);
            stream.write({
              header: { cluster_id: '1', member_id: '2', revision: '3', raft_term: '4' },
              watch_id: '5',
              created: true,
              canceled: false,
              compact_revision: '0',
              cancel_reason: '',
              fragment: false,
              events: [],
            });
          });
          stream.on('end', () => stream.end());
        },
      }),
    );
    const watch = connect(api.Watch, address);
    const stream = (watch as unknown as { Watch(): grpc.ClientDuplexStream<object, WatchResponse> }).Watch();
    const first = new Promise<WatchResponse>((resolve) => stream.once('data', resolve));
    stream.write({ create_request: { key: Buffer.from('a'), watch_id: 5, filters: ['NODELETE'] } });
    const response = await first;
    // Half-close, then wait for the server's end and status so teardown cancels nothing in flight.
    const closed = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.on('data', () => undefined);
    stream.end();
    expect((await closed).code).toBe(grpc.status.OK);
    expect(response).toMatchObject({ watch_id: '5', created: true, canceled: false, events: [] });
    expect(response.header?.revision).toBe('3');
    expect(requests[0]?.request_union).toBe('create_request');
    expect(requests[0]?.create_request).toMatchObject({ watch_id: '5', filters: ['NODELETE'] });
  });

  it('RaftTransport.Send carries each message field by field', async () => {
    const api = loadRaftTransport();
    const received: RaftMessage[] = [];
    const address = await startServer((server) =>
      server.addService(api.RaftTransport.service, {
        Send(call: grpc.ServerUnaryCall<RaftMessage, SendAck>, callback: grpc.sendUnaryData<SendAck>) {
          received.push(call.request);
          callback(null, {});
        },
      }),
    );
    const client = connect(api.RaftTransport, address) as unknown as {
      Send(message: object, cb: grpc.requestCallback<SendAck>): void;
    };
    const send = (message: object): Promise<SendAck> =>
      new Promise((resolve, reject) => client.Send(message, (error, value) => (error || !value ? reject(error) : resolve(value))));
    // One after another, so they arrive in this order.
    await send({
      clusterId: '99',
      type: 'Append',
      from: 1,
      to: 2,
      term: 3,
      index: 10,
      logTerm: 3,
      commit: 9,
      entries: [{ index: 11, term: 3, type: 'Membership', data: Buffer.from([1, 2, 3]) }],
    });
    await send({
      clusterId: '99',
      type: 'InstallSnapshot',
      from: 1,
      to: 2,
      term: 3,
      snapshot: { meta: { index: 8, term: 2, membership: { voters: [1, 2, 3], learners: [4] } }, data: Buffer.from('s') },
    });
    expect(await send({ clusterId: '99', type: 'Heartbeat', from: 1, to: 2, term: 3, context: 'read-1' })).toEqual({});

    expect(received.map((m) => m.type)).toEqual(['Append', 'InstallSnapshot', 'Heartbeat']);
    expect(received[0]).toMatchObject({
      clusterId: '99',
      from: '1',
      to: '2',
      index: '10',
      logTerm: '3',
      commit: '9',
      reject: false,
      snapshot: null,
      entries: [{ index: '11', term: '3', type: 'Membership', data: Buffer.from([1, 2, 3]) }],
    });
    // `context` is a proto3 optional: absent unless set, so "no context" and "" differ.
    expect(received[0]?.context).toBeUndefined();
    expect(received[2]?.context).toBe('read-1');
    expect(received[1]?.snapshot).toEqual({
      meta: { index: '8', term: '2', membership: { voters: ['1', '2', '3'], learners: ['4'] } },
      data: Buffer.from('s'),
    });
  });
});
