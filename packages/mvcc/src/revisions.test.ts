import { Buffer } from 'node:buffer';
import { describe, expect, test } from 'vitest';
import { ERR_EMPTY_KEY } from './errors.js';
import { MvccStore } from './mvcc_store.js';
import { enc, expectEtcdError, FROM_KEY, prefixEnd, show } from './test_support.js';

const at = (store: MvccStore, key: string, revision = 0) => show(store.range({ key: enc(key), revision }).kvs[0]);

describe('revisions and versions', () => {
  test('an empty store is at revision 1; each put takes the next revision', () => {
    const store = new MvccStore();
    expect(store.revision).toBe(1);
    expect(store.put({ key: enc('a'), value: enc('1') }).response.revision).toBe(2);
    expect(store.put({ key: enc('b'), value: enc('1') }).response.revision).toBe(3);
    expect(store.revision).toBe(3);
  });

  test('overwriting keeps createRevision and bumps version and modRevision', () => {
    const store = new MvccStore();
    store.put({ key: enc('a'), value: enc('1') });
    store.put({ key: enc('a'), value: enc('2') });
    store.put({ key: enc('a'), value: enc('3') });
    const [kv] = store.range({ key: enc('a') }).kvs;
    expect([kv?.createRevision, kv?.modRevision, kv?.version]).toEqual([2, 4, 3]);
  });

  test('delete, then recreate: a new life with version 1 and a new createRevision', () => {
    const store = new MvccStore();
    store.put({ key: enc('a'), value: enc('1') }); // 2
    store.put({ key: enc('a'), value: enc('2') }); // 3
    const deleted = store.deleteRange({ key: enc('a') }); // 4
    expect(deleted.response).toEqual({ deleted: 1, prevKvs: [], revision: 4 });
    expect(at(store, 'a')).toBe('-');
    store.put({ key: enc('a'), value: enc('new') }); // 5
    const [kv] = store.range({ key: enc('a') }).kvs;
    expect([kv?.createRevision, kv?.modRevision, kv?.version]).toEqual([5, 5, 1]);
    // Every revision still answers as it was.
    expect([2, 3, 4, 5].map((rev) => at(store, 'a', rev))).toEqual(['a=1@2/v1', 'a=2@3/v2', '-', 'a=new@5/v1']);
  });

  test('deleting nothing takes no revision', () => {
    const store = new MvccStore();
    store.put({ key: enc('a'), value: enc('1') });
    const missing = store.deleteRange({ key: enc('zz'), prevKv: true });
    expect(missing).toEqual({ response: { deleted: 0, prevKvs: [], revision: 2 }, events: [] });
    expect(store.revision).toBe(2);
  });

  test('a range delete takes one revision for all its keys and returns prevKvs in key order', () => {
    const store = new MvccStore();
    for (const k of ['p/1', 'p/2', 'q']) store.put({ key: enc(k), value: enc(k) });
    const { response, events } = store.deleteRange({ key: enc('p/'), rangeEnd: prefixEnd('p/'), prevKv: true });
    expect(response.deleted).toBe(2);
    expect(response.prevKvs.map(show)).toEqual(['p/1=p/1@2/v1', 'p/2=p/2@3/v1']);
    expect(response.revision).toBe(5);
    expect(events.map((e) => [e.type, e.kv.modRevision])).toEqual([['DELETE', 5], ['DELETE', 5]]);
    expect(store.range({ key: FROM_KEY, rangeEnd: FROM_KEY }).count).toBe(1);
  });

  test('a from-key delete removes every key >= key', () => {
    const store = new MvccStore();
    for (const k of ['a', 'b', 'c']) store.put({ key: enc(k), value: enc('') });
    expect(store.deleteRange({ key: enc('b'), rangeEnd: FROM_KEY }).response.deleted).toBe(2);
  });

  test('an empty key is refused for put and delete', () => {
    const store = new MvccStore();
    expectEtcdError(() => store.put({ key: new Uint8Array(0), value: enc('x') }), ERR_EMPTY_KEY);
    expectEtcdError(() => store.deleteRange({ key: new Uint8Array(0) }), ERR_EMPTY_KEY);
    expect(store.revision).toBe(1);
  });

  test('values are binary-safe and copied in: the caller may reuse its buffers', () => {
    const store = new MvccStore();
    const key = new Uint8Array([0x00, 0xff]);
    const value = new Uint8Array([0x00, 0x01, 0xfe, 0xff]);
    store.put({ key, value });
    key[0] = 9;
    value[0] = 9;
    const [kv] = store.range({ key: new Uint8Array([0x00, 0xff]) }).kvs;
    expect([...(kv?.value ?? [])]).toEqual([0x00, 0x01, 0xfe, 0xff]);
  });

  test('Node Buffers (what gRPC hands over) are copied too, though their slice() is a view', () => {
    const store = new MvccStore();
    const key = Buffer.from('k');
    const value = Buffer.from('v1');
    store.put({ key, value });
    key.write('x');
    value.write('zz');
    expect(show(store.range({ key: enc('k') }).kvs[0])).toBe('k=v1@2/v1');
  });

  test('a snapshot restored from a Buffer keeps no view of it', () => {
    const store = new MvccStore();
    store.put({ key: enc('k'), value: enc('v1') });
    const bytes = Buffer.from(store.snapshot());
    const restored = MvccStore.restore(bytes);
    bytes.fill(0);
    expect(show(restored.range({ key: enc('k') }).kvs[0])).toBe('k=v1@2/v1');
  });

  test('a put with no value stores the empty value', () => {
    const store = new MvccStore();
    store.put({ key: enc('a') });
    expect(store.range({ key: enc('a') }).kvs[0]?.value).toEqual(new Uint8Array(0));
  });
});
