import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadEtcdApi,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  type StatusResponse,
} from './index.js';

// The other direction of wire compatibility: unmodified etcd clients (the etcd3 npm client and
// etcdctl 3.4) against a server registered from OUR definitions. The server is a toy map with exact
// key lookups only, just enough to answer put, get and endpoint status.

const run = promisify(execFile);
const haveEtcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).stdout?.includes('API version: 3.4') ?? false;

describe('unmodified etcd clients against a server built from our protos', () => {
  const api = loadEtcdApi();
  const store = new Map<string, KeyValue>();
  let revision = 1;
  const header = (): ResponseHeader => ({ cluster_id: '7', member_id: '9', revision: String(revision), raft_term: '2' });
  const server = new grpc.Server();
  let address = '';

  beforeAll(async () => {
    server.addService(api.KV.service, {
      Range(call: grpc.ServerUnaryCall<RangeRequest, RangeResponse>, callback: grpc.sendUnaryData<RangeResponse>) {
        const found = store.get(call.request.key.toString('latin1'));
        const kvs = found ? [found] : [];
        callback(null, { header: header(), kvs, more: false, count: String(kvs.length) });
      },
      Put(call: grpc.ServerUnaryCall<PutRequest, PutResponse>, callback: grpc.sendUnaryData<PutResponse>) {
        const key = call.request.key.toString('latin1');
        const previous = store.get(key);
        revision++;
        store.set(key, {
          key: call.request.key,
          value: call.request.value,
          create_revision: previous?.create_revision ?? String(revision),
          mod_revision: String(revision),
          version: String(Number(previous?.version ?? 0) + 1),
          lease: call.request.lease,
        });
        callback(null, { header: header(), prev_kv: call.request.prev_kv ? (previous ?? null) : null });
      },
    });
    server.addService(api.Maintenance.service, {
      Status(_call: grpc.ServerUnaryCall<object, StatusResponse>, callback: grpc.sendUnaryData<StatusResponse>) {
        callback(null, {
          header: header(),
          version: '3.4.99-k8ts',
          dbSize: '4096',
          leader: '9',
          raftIndex: String(revision + 3),
          raftTerm: '2',
          raftAppliedIndex: String(revision + 3),
          errors: [],
          dbSizeInUse: '4096',
          isLearner: false,
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => {
    server.forceShutdown();
  });

  it('the etcd3 npm client puts, gets and reads status', async () => {
    const client = new Etcd3({ hosts: address });
    try {
      await client.put('greeting').value('hello');
      expect(await client.get('greeting').string()).toBe('hello');
      expect(await client.get('missing').string()).toBeNull();
      const status = await client.maintenance.status();
      expect(status.version).toBe('3.4.99-k8ts');
      expect(status.leader).toBe('9');
    } finally {
      client.close();
    }
  });

  it.skipIf(!haveEtcdctl)('etcdctl 3.4 puts, gets and reads endpoint status', async () => {
    const etcdctl = (...args: string[]) =>
      run('etcdctl', [`--endpoints=${address}`, '--command-timeout=5s', ...args], {
        env: { ...process.env, ETCDCTL_API: '3' },
      });
    expect((await etcdctl('put', '/k8ts/x', 'from etcdctl')).stdout.trim()).toBe('OK');
    expect((await etcdctl('get', '/k8ts/x')).stdout.split('\n').slice(0, 2)).toEqual(['/k8ts/x', 'from etcdctl']);
    const status = JSON.parse((await etcdctl('endpoint', 'status', '-w', 'json')).stdout) as {
      Status: { version: string; leader: number; header: { member_id: number } };
    }[];
    expect(status[0]?.Status.version).toBe('3.4.99-k8ts');
    expect(status[0]?.Status.leader).toBe(9);
    expect(status[0]?.Status.header.member_id).toBe(9);
  });
});
