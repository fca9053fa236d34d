import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadEtcdApi,
  type LeaseGrantResponse,
  type LeaseTimeToLiveResponse,
  type PutResponse,
  type RangeResponse,
  type StatusResponse,
  type TxnResponse,
  type WatchResponse,
} from './index.js';

// Wire compatibility, refereed by a real etcd 3.4 (Debian's etcd-server): our .proto files must
// encode requests etcd understands and decode what etcd answers. Skipped where etcd is not installed.

const etcdVersion = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
const haveEtcd = etcdVersion.status === 0 && /etcd Version: 3\.4\./.test(etcdVersion.stdout);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function unary<Res>(client: grpc.Client, method: string, request: object): Promise<Res> {
  const fn = (client as unknown as Record<string, unknown>)[method];
  if (typeof fn !== 'function') throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 5_000;
    fn.call(client, request, { deadline }, (error: grpc.ServiceError | null, response: Res) =>
      error ? reject(error) : resolve(response),
    );
  });
}

describe.skipIf(!haveEtcd)('against a real etcd 3.4', () => {
  const api = loadEtcdApi();
  let etcd: ChildProcess | undefined;
  let dataDir = '';
  let stderr = '';
  let kv: grpc.Client;
  let maintenance: grpc.Client;
  let lease: grpc.Client;
  let watch: grpc.Client;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'k8ts-proto-etcd-'));
    const clientUrl = `http://127.0.0.1:${await freePort()}`;
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    etcd = spawn(
      'etcd',
      [
        '--name=wire',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=wire=${peerUrl}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    etcd.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));

    const address = clientUrl.replace('http://', '');
    const credentials = grpc.credentials.createInsecure();
    kv = new api.KV(address, credentials);
    maintenance = new api.Maintenance(address, credentials);
    lease = new api.Lease(address, credentials);
    watch = new api.Watch(address, credentials);

    // Ready once it answers a linearizable read (it has elected itself leader).
    const giveUpAt = Date.now() + 20_000;
    for (;;) {
      try {
        await unary<RangeResponse>(kv, 'Range', { key: Buffer.from('ready?') });
        return;
      } catch (error) {
        if (Date.now() > giveUpAt || etcd.exitCode !== null) {
          throw new Error(`etcd did not come up: ${String(error)}\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }, 30_000);

  afterAll(async () => {
    for (const client of [kv, maintenance, lease, watch]) client?.close();
    if (etcd && etcd.exitCode === null) {
      const exited = new Promise((resolve) => etcd?.once('exit', resolve));
      etcd.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('KV.Put then KV.Range: etcd decodes our requests and we decode its answers', async () => {
    const key = Buffer.from('/wire/a');
    const first = await unary<PutResponse>(kv, 'Put', { key, value: Buffer.from('one'), prev_kv: true });
    expect(first.prev_kv).toBeNull();
    expect(first.header?.cluster_id).toMatch(/^[1-9]\d*$/);
    expect(first.header?.member_id).toMatch(/^[1-9]\d*$/);
    expect(first.header?.raft_term).toMatch(/^[1-9]\d*$/);

    const second = await unary<PutResponse>(kv, 'Put', { key, value: Buffer.from('two'), prev_kv: true });
    expect(second.prev_kv).toMatchObject({ key, value: Buffer.from('one'), version: '1', lease: '0' });
    expect(BigInt(second.header?.revision ?? '0')).toBe(BigInt(first.header?.revision ?? '0') + 1n);

    const range = await unary<RangeResponse>(kv, 'Range', { key });
    expect(range.count).toBe('1');
    expect(range.more).toBe(false);
    expect(range.kvs).toEqual([
      {
        key,
        value: Buffer.from('two'),
        create_revision: first.header?.revision,
        mod_revision: second.header?.revision,
        version: '2',
        lease: '0',
      },
    ]);
    expect(range.header?.revision).toBe(second.header?.revision);
  });

  it('KV.Range over a prefix honours limit, sort and count_only (enums and int64 on the wire)', async () => {
    for (const name of ['p/1', 'p/2', 'p/3']) {
      await unary<PutResponse>(kv, 'Put', { key: Buffer.from(name), value: Buffer.from(name) });
    }
    const page = await unary<RangeResponse>(kv, 'Range', {
      key: Buffer.from('p/'),
      range_end: Buffer.from('p0'),
      limit: 2,
      sort_order: 'DESCEND',
      sort_target: 'KEY',
      keys_only: true,
    });
    expect(page.kvs.map((entry) => entry.key.toString())).toEqual(['p/3', 'p/2']);
    expect(page.kvs[0]?.value).toEqual(Buffer.alloc(0));
    expect(page.more).toBe(true);
    expect(page.count).toBe('3');

    const counted = await unary<RangeResponse>(kv, 'Range', {
      key: Buffer.from('p/'),
      range_end: Buffer.from('p0'),
      count_only: true,
    });
    expect(counted).toMatchObject({ kvs: [], count: '3' });
  });

  it('KV.Txn: Compare oneofs and RequestOp/ResponseOp oneofs', async () => {
    const key = Buffer.from('/wire/txn');
    const put = await unary<PutResponse>(kv, 'Put', { key, value: Buffer.from('v1') });
    const txn = (modRevision: string) =>
      unary<TxnResponse>(kv, 'Txn', {
        compare: [{ key, target: 'MOD', result: 'EQUAL', mod_revision: modRevision }],
        success: [{ request_put: { key, value: Buffer.from('v2') } }],
        failure: [{ request_range: { key } }],
      });

    const stale = await txn('1');
    expect(stale.succeeded).toBe(false);
    expect(stale.responses[0]?.response).toBe('response_range');
    expect(stale.responses[0]?.response_range?.kvs[0]?.value).toEqual(Buffer.from('v1'));

    const fresh = await txn(put.header?.revision ?? '');
    expect(fresh.succeeded).toBe(true);
    expect(fresh.responses[0]?.response).toBe('response_put');
  });

  it('a read below the compacted revision fails with etcd’s code and message', async () => {
    const put = await unary<PutResponse>(kv, 'Put', { key: Buffer.from('/wire/c'), value: Buffer.from('x') });
    await unary(kv, 'Compact', { revision: put.header?.revision, physical: true });
    await expect(unary(kv, 'Range', { key: Buffer.from('/wire/c'), revision: 1 })).rejects.toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
  });

  it('Lease: grant, attach a key, and read it back with TimeToLive (capitalised field names)', async () => {
    const granted = await unary<LeaseGrantResponse>(lease, 'LeaseGrant', { TTL: 60 });
    expect(granted.ID).toMatch(/^[1-9]\d*$/);
    expect(granted.TTL).toBe('60');
    await unary<PutResponse>(kv, 'Put', { key: Buffer.from('/wire/leased'), value: Buffer.from('x'), lease: granted.ID });
    const ttl = await unary<LeaseTimeToLiveResponse>(lease, 'LeaseTimeToLive', { ID: granted.ID, keys: true });
    expect(ttl.grantedTTL).toBe('60');
    expect(Number(ttl.TTL)).toBeGreaterThan(0);
    expect(ttl.keys).toEqual([Buffer.from('/wire/leased')]);
  });

  it('Watch: create on the bidi stream, then receive a PUT event', async () => {
    const stream = (watch as unknown as { Watch(): grpc.ClientDuplexStream<object, WatchResponse> }).Watch();
    const responses: WatchResponse[] = [];
    const waitFor = (predicate: (r: WatchResponse) => boolean) =>
      new Promise<WatchResponse>((resolve) => {
        const check = () => {
          const found = responses.find(predicate);
          if (found) resolve(found);
          else setTimeout(check, 10);
        };
        check();
      });
    stream.on('data', (response: WatchResponse) => responses.push(response));
    stream.on('error', () => undefined); // cancelled at teardown

    stream.write({ create_request: { key: Buffer.from('/wire/w'), prev_kv: true } });
    const created = await waitFor((r) => r.created);
    const put = await unary<PutResponse>(kv, 'Put', { key: Buffer.from('/wire/w'), value: Buffer.from('seen') });
    const event = await waitFor((r) => r.events.length > 0);
    stream.cancel();

    expect(event.watch_id).toBe(created.watch_id);
    expect(event.events[0]).toMatchObject({
      type: 'PUT',
      kv: { key: Buffer.from('/wire/w'), value: Buffer.from('seen'), version: '1', mod_revision: put.header?.revision },
      prev_kv: null,
    });
  });

  it('Maintenance.Status reports the server version, leader and raft progress', async () => {
    const status = await unary<StatusResponse>(maintenance, 'Status', {});
    expect(status.version).toMatch(/^3\.4\.\d+$/);
    expect(status.leader).toBe(status.header?.member_id);
    expect(Number(status.dbSize)).toBeGreaterThan(0);
    expect(Number(status.raftIndex)).toBeGreaterThan(0);
    expect(status.raftTerm).toBe(status.header?.raft_term);
    expect(status.errors).toEqual([]);
    expect(status.isLearner).toBe(false);
  });
});
