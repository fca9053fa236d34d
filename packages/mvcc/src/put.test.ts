import { describe, expect, test } from 'vitest';
import { ERR_KEY_NOT_FOUND, ERR_LEASE_NOT_FOUND, ERR_LEASE_PROVIDED, ERR_VALUE_PROVIDED } from './errors.js';
import { MvccStore } from './mvcc_store.js';
import { dec, enc, expectEtcdError, show } from './test_support.js';

describe('put options', () => {
  test('prevKv returns the value being overwritten, and nothing for a new key', () => {
    const store = new MvccStore();
    expect(store.put({ key: enc('a'), value: enc('1'), prevKv: true }).response).toEqual({ revision: 2 });
    expect(show(store.put({ key: enc('a'), value: enc('2'), prevKv: true }).response.prevKv)).toBe('a=1@2/v1');
  });

  test('ignoreValue keeps the current value and still makes a new version', () => {
    const store = new MvccStore();
    store.leaseGrant('5', 60);
    store.put({ key: enc('a'), value: enc('kept') });
    store.put({ key: enc('a'), ignoreValue: true, lease: '5' });
    const [kv] = store.range({ key: enc('a') }).kvs;
    expect([dec(kv!.value), kv!.version, kv!.lease]).toEqual(['kept', 2, '5']);
  });

  test('ignoreLease keeps the current lease and takes the new value', () => {
    const store = new MvccStore();
    store.leaseGrant('5', 60);
    store.put({ key: enc('a'), value: enc('1'), lease: '5' });
    store.put({ key: enc('a'), value: enc('2'), ignoreLease: true });
    const [kv] = store.range({ key: enc('a') }).kvs;
    expect([dec(kv!.value), kv!.lease]).toEqual(['2', '5']);
    expect(store.lease('5')?.keys.map(dec)).toEqual(['a']);
  });

  test('ignoreValue with a value, or ignoreLease with a lease, is refused', () => {
    const store = new MvccStore();
    store.put({ key: enc('a'), value: enc('1') });
    expectEtcdError(() => store.put({ key: enc('a'), value: enc('x'), ignoreValue: true }), ERR_VALUE_PROVIDED);
    expectEtcdError(() => store.put({ key: enc('a'), lease: '5', ignoreLease: true }), ERR_LEASE_PROVIDED);
    expect(store.revision).toBe(2);
  });

  test('ignoreValue or ignoreLease on a missing key is "key not found"', () => {
    const store = new MvccStore();
    expectEtcdError(() => store.put({ key: enc('a'), ignoreValue: true }), ERR_KEY_NOT_FOUND);
    expectEtcdError(() => store.put({ key: enc('a'), value: enc('1'), ignoreLease: true }), ERR_KEY_NOT_FOUND);
    store.put({ key: enc('a'), value: enc('1') });
    store.deleteRange({ key: enc('a') });
    expectEtcdError(() => store.put({ key: enc('a'), ignoreValue: true }), ERR_KEY_NOT_FOUND);
  });

  test('an unknown lease is refused; outside a txn it is checked before the missing key', () => {
    const store = new MvccStore();
    expectEtcdError(() => store.put({ key: enc('a'), value: enc('1'), lease: '99' }), ERR_LEASE_NOT_FOUND);
    expectEtcdError(() => store.put({ key: enc('a'), ignoreValue: true, lease: '99' }), ERR_LEASE_NOT_FOUND);
    expect(store.revision).toBe(1);
  });
});
