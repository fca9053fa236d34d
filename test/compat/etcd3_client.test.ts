import { TestCluster, waitForLeader, type StoreKind } from '@k8ts/testkit';
import { Etcd3, type IKeyValue } from 'etcd3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * The same kind of checks through the etcd3 npm client (gRPC from Node), against three real etcd 3.4
 * members and three k8ts-store members started with the same flags. Expectations are etcd's.
 */
const KINDS: StoreKind[] = ['etcd', 'k8ts'];

const rev = (kv: IKeyValue | undefined): [string, string, number, number, number] => [
  kv?.key.toString() ?? '',
  kv?.value.toString() ?? '',
  Number(kv?.create_revision),
  Number(kv?.mod_revision),
  Number(kv?.version),
];

async function eventually(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((done) => setTimeout(done, 100));
  }
  return probe();
}

describe.each(KINDS)('etcd3 npm client against three %s members', (kind) => {
  let cluster: TestCluster;
  let client: Etcd3;
  const revision = async (): Promise<number> => Number((await client.get('__none__').exec()).header.revision);

  beforeAll(async () => {
    cluster = await TestCluster.start(kind);
    await waitForLeader(cluster.endpoints);
    client = new Etcd3({ hosts: cluster.members.map((member) => member.clientUrl) });
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  test('put, get and revisions', async () => {
    expect(await revision()).toBe(1);
    await client.put('a').value('1');
    await client.put('a').value('2');
    const response = await client.get('a').exec();
    expect(rev(response.kvs[0])).toEqual(['a', '2', 2, 3, 2]);
    expect(Number(response.header.revision)).toBe(3);
    expect(await client.get('a').string()).toBe('2');
    expect(await client.get('missing').string()).toBeNull();
  });

  test('put with the previous value, binary keys and values', async () => {
    const previous = await client.put('a').value('3').getPrevious();
    expect(previous?.value.toString()).toBe('2');
    const key = Buffer.from([0, 255, 1]);
    const value = Buffer.from([255, 0, 254]);
    await client.put(key).value(value);
    expect(await client.get(key).buffer()).toEqual(value);
  });

  test('ranges: prefix, count, limit, sort, keys only, historical, serializable', async () => {
    for (const [key, value] of [['p/1', 'c'], ['p/2', 'a'], ['p/3', 'b']]) await client.put(key as string).value(value as string);
    expect(await client.getAll().prefix('p/').keys()).toEqual(['p/1', 'p/2', 'p/3']);
    expect(await client.getAll().prefix('p/').count()).toBe(3);
    const limited = await client.getAll().prefix('p/').limit(2).exec();
    expect([limited.kvs.map((kv) => kv.key.toString()), limited.more, Number(limited.count)]).toEqual([['p/1', 'p/2'], true, 3]);
    expect(await client.getAll().prefix('p/').sort('Value', 'Descend').keys()).toEqual(['p/1', 'p/3', 'p/2']);
    expect(await client.getAll().prefix('p/').sort('Create', 'Descend').limit(1).keys()).toEqual(['p/3']);
    const before = await revision();
    await client.put('p/1').value('z');
    expect(await client.get('p/1').revision(before).string()).toBe('c');
    expect(await client.get('p/1').serializable(true).string()).toBe('z');
    const inRange = await client.getAll().inRange({ start: 'p/1', end: 'p/3' }).keys();
    expect(inRange).toEqual(['p/1', 'p/2']);
  });

  test('delete: one key, a prefix, with the previous pairs', async () => {
    expect(Number((await client.delete().key('p/1').exec()).deleted)).toBe(1);
    const previous = await client.delete().prefix('p/').getPrevious();
    expect(previous.map((kv) => [kv.key.toString(), kv.value.toString()])).toEqual([['p/2', 'a'], ['p/3', 'b']]);
    expect(await client.getAll().prefix('p/').count()).toBe(0);
  });

  test('transactions: compare-and-set on value, version, create and mod revision', async () => {
    await client.put('cas').value('v1');
    const won = await client.if('cas', 'Value', '==', 'v1').then(client.put('cas').value('v2')).else(client.get('cas')).commit();
    expect(won.succeeded).toBe(true);
    const lost = await client.if('cas', 'Value', '==', 'v1').then(client.put('cas').value('v3')).else(client.get('cas')).commit();
    expect(lost.succeeded).toBe(false);
    expect(lost.responses[0]?.response_range?.kvs[0]?.value.toString()).toBe('v2');
    expect((await client.if('cas', 'Version', '==', 2).commit()).succeeded).toBe(true);
    expect((await client.if('cas', 'Create', '==', 0).commit()).succeeded).toBe(false);
    expect((await client.if('nope', 'Create', '==', 0).then(client.put('nope').value('x')).commit()).succeeded).toBe(true);
    const mod = Number((await client.get('cas').exec()).kvs[0]?.mod_revision);
    expect((await client.if('cas', 'Mod', '<', mod + 1).and('nope', 'Value', '!=', 'y').commit()).succeeded).toBe(true);
  });

  test('watch: live events with the previous value, and history from a revision', async () => {
    const start = await revision();
    const watcher = await client.watch().key('w').withPreviousKV().create();
    const seen: string[] = [];
    watcher.on('put', (kv, previous) => seen.push(`PUT ${kv.value.toString()} (was ${previous?.value.toString() ?? '-'})`));
    watcher.on('delete', (_kv, previous) => seen.push(`DELETE (was ${previous?.value.toString() ?? '-'})`));
    await client.put('w').value('1');
    await client.put('w').value('2');
    await client.delete().key('w');
    expect(await eventually(async () => seen.length === 3, 5000)).toBe(true);
    expect(seen).toEqual(['PUT 1 (was -)', 'PUT 2 (was 1)', 'DELETE (was 2)']);
    await watcher.cancel();

    const replay = await client.watch().key('w').startRevision(String(start + 1)).create();
    const replayed: string[] = [];
    replay.on('put', (kv) => replayed.push(`PUT ${kv.value.toString()} @${Number(kv.mod_revision)}`));
    replay.on('delete', (kv) => replayed.push(`DELETE @${Number(kv.mod_revision)}`));
    expect(await eventually(async () => replayed.length === 3, 5000)).toBe(true);
    expect(replayed).toEqual([`PUT 1 @${start + 1}`, `PUT 2 @${start + 2}`, `DELETE @${start + 3}`]);
    await replay.cancel();
  });

  test('leases: grant, attach, keep-alive, time-to-live, list, revoke', async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    const id = await lease.grant();
    await lease.put('l/1').value('v');
    const kept = await lease.keepaliveOnce();
    expect(Number(kept.TTL)).toBe(30);
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
    expect([Number(ttl.grantedTTL), ttl.keys.map((key) => key.toString())]).toEqual([30, ['l/1']]);
    expect(Number(ttl.TTL)).toBeGreaterThanOrEqual(29);
    const leases = await client.leaseClient.leaseLeases({});
    expect(leases.leases.map((l) => String(l.ID))).toContain(String(id));
    await lease.revoke();
    expect(await client.get('l/1').string()).toBeNull();
    const gone = await client.leaseClient.leaseTimeToLive({ ID: id, keys: false });
    expect(Number(gone.TTL)).toBe(-1);
    await expect(client.leaseClient.leaseRevoke({ ID: id })).rejects.toThrow('requested lease not found');
  });

  test('a lease left to expire takes its keys with it', async () => {
    const lease = client.lease(2, { autoKeepAlive: false });
    await lease.grant();
    await lease.put('e/1').value('v');
    expect(await eventually(async () => (await client.get('e/1').string()) === null, 8000)).toBe(true);
    lease.release();
  });

  test('compaction and reading below it', async () => {
    await client.put('k').value('1');
    const old = await revision();
    await client.put('k').value('2');
    const now = await revision();
    await client.kv.compact({ revision: now });
    await expect(client.get('k').revision(old).string()).rejects.toThrow('required revision has been compacted');
    expect(await client.get('k').revision(now).string()).toBe('2');
  });

  test('cluster and maintenance: member list and status', async () => {
    const members = await client.cluster.memberList({});
    expect(members.members.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3']);
    const status = await client.maintenance.status({});
    expect(Number(status.leader)).not.toBe(0);
    expect(Number(status.raftTerm)).toBeGreaterThanOrEqual(2);
    expect(Number(status.dbSize)).toBeGreaterThan(0);
  });

  test('errors: an empty key, a too-large put, an unknown lease', async () => {
    await expect(client.put('').value('x')).rejects.toThrow('key is not provided');
    await expect(client.put('big').value(Buffer.alloc(1_700_000, 1))).rejects.toThrow('request is too large');
    await expect(client.put('k').value('v').lease('12345')).rejects.toThrow('requested lease not found');
  });
});
