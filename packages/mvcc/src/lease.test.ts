import { describe, expect, test } from 'vitest';
import { ERR_LEASE_EXIST, ERR_LEASE_NOT_FOUND, ERR_LEASE_TTL_TOO_LARGE } from './errors.js';
import { MAX_LEASE_TTL_SECONDS } from './lessor.js';
import { MvccStore } from './mvcc_store.js';
import { dec, enc, expectEtcdError, put } from './test_support.js';

const keysOf = (store: MvccStore, id: string) => store.lease(id)?.keys.map(dec);

describe('grant', () => {
  test('grants with the requested TTL and takes no revision', () => {
    const store = new MvccStore();
    expect(store.leaseGrant('42', 30)).toEqual({ id: '42', ttl: 30, revision: 1 });
    expect(store.leases()).toEqual([{ id: '42', ttl: 30 }]);
  });

  test('a TTL below the minimum is raised to it (etcd: 2 s with default timings)', () => {
    const store = new MvccStore();
    expect(store.leaseGrant('1', 1).ttl).toBe(2);
    expect(store.leaseGrant('2', -5).ttl).toBe(2);
    expect(new MvccStore({ minLeaseTtlSeconds: 5 }).leaseGrant('1', 3).ttl).toBe(5);
  });

  test('etcd refusals: ID 0, TTL too large, an ID in use', () => {
    const store = new MvccStore();
    expectEtcdError(() => store.leaseGrant('0', 10), ERR_LEASE_NOT_FOUND);
    expectEtcdError(() => store.leaseGrant('1', MAX_LEASE_TTL_SECONDS + 1), ERR_LEASE_TTL_TOO_LARGE);
    expect(store.leaseGrant('1', MAX_LEASE_TTL_SECONDS).ttl).toBe(MAX_LEASE_TTL_SECONDS);
    expectEtcdError(() => store.leaseGrant('1', 10), ERR_LEASE_EXIST);
  });

  test('IDs beyond 2^53 and negative IDs keep every digit; leases list by numeric ID', () => {
    const store = new MvccStore();
    for (const id of ['9223372036854775807', '-9223372036854775808', '10', '9', '0007']) store.leaseGrant(id, 10);
    expect(store.leases().map((l) => l.id)).toEqual(['-9223372036854775808', '7', '9', '10', '9223372036854775807']);
    expect(() => store.leaseGrant('9223372036854775808', 10)).toThrow(TypeError);
    expect(() => store.leaseGrant('12abc', 10)).toThrow(TypeError);
  });
});

describe('attach and detach', () => {
  test('a put with a lease attaches the key; the kv carries the lease', () => {
    const store = new MvccStore();
    store.leaseGrant('1', 10);
    store.put({ key: enc('b'), value: enc(''), lease: '1' });
    store.put({ key: enc('a'), value: enc(''), lease: '1' });
    expect(keysOf(store, '1')).toEqual(['a', 'b']);
    expect(store.range({ key: enc('a') }).kvs[0]?.lease).toBe('1');
  });

  test('overwriting with another lease moves the key; with no lease detaches it', () => {
    const store = new MvccStore();
    store.leaseGrant('1', 10);
    store.leaseGrant('2', 10);
    store.put({ key: enc('k'), value: enc(''), lease: '1' });
    store.put({ key: enc('k'), value: enc(''), lease: '2' });
    expect([keysOf(store, '1'), keysOf(store, '2')]).toEqual([[], ['k']]);
    store.put({ key: enc('k'), value: enc('') });
    expect(keysOf(store, '2')).toEqual([]);
  });

  test('deleting a key detaches it', () => {
    const store = new MvccStore();
    store.leaseGrant('1', 10);
    store.txn({ success: [put('a', '', { lease: '1' }), put('b', '', { lease: '1' })] });
    store.deleteRange({ key: enc('a') });
    expect(keysOf(store, '1')).toEqual(['b']);
  });

  test('an unknown lease is undefined', () => {
    expect(new MvccStore().lease('5')).toBeUndefined();
  });
});

describe('revoke', () => {
  test('deletes every attached key at one revision and forgets the lease', () => {
    const store = new MvccStore();
    store.leaseGrant('1', 10);
    store.put({ key: enc('b'), value: enc(''), lease: '1' });
    store.put({ key: enc('a'), value: enc(''), lease: '1' });
    store.put({ key: enc('free'), value: enc('') });
    const { response, events } = store.leaseRevoke('1');
    expect(response).toEqual({ revision: 5 });
    expect(events.map((e) => `${e.type} ${dec(e.kv.key)}@${e.kv.modRevision}`)).toEqual(['DELETE a@5', 'DELETE b@5']);
    expect(store.range({ key: enc('a'), rangeEnd: enc('z') }).kvs.map((kv) => dec(kv.key))).toEqual(['free']);
    expect(store.lease('1')).toBeUndefined();
    expect(store.leases()).toEqual([]);
  });

  test('a lease without keys is forgotten without a revision', () => {
    const store = new MvccStore();
    store.leaseGrant('1', 10);
    expect(store.leaseRevoke('1')).toEqual({ response: { revision: 1 }, events: [] });
  });

  test('a key moved to another lease survives the old lease', () => {
    const store = new MvccStore();
    store.leaseGrant('1', 10);
    store.leaseGrant('2', 10);
    store.put({ key: enc('k'), value: enc(''), lease: '1' });
    store.put({ key: enc('k'), value: enc('moved'), lease: '2' });
    expect(store.leaseRevoke('1').events).toEqual([]);
    expect(store.range({ key: enc('k') }).count).toBe(1);
  });

  test('an unknown lease is refused, and a revoked one is unknown', () => {
    const store = new MvccStore();
    expectEtcdError(() => store.leaseRevoke('1'), ERR_LEASE_NOT_FOUND);
    store.leaseGrant('1', 10);
    store.leaseRevoke('1');
    expectEtcdError(() => store.leaseRevoke('1'), ERR_LEASE_NOT_FOUND);
    expectEtcdError(() => store.put({ key: enc('a'), value: enc(''), lease: '1' }), ERR_LEASE_NOT_FOUND);
  });
});
