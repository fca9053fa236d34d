import { beforeEach, describe, expect, test } from 'vitest';
import {
  ERR_COMPACTED,
  ERR_DUPLICATE_KEY,
  ERR_EMPTY_KEY,
  ERR_FUTURE_REV,
  ERR_KEY_NOT_FOUND,
  ERR_LEASE_NOT_FOUND,
  ERR_TOO_MANY_OPS,
} from './errors.js';
import { MvccStore } from './mvcc_store.js';
import { dec, del, enc, expectEtcdError, FROM_KEY, get, nested, put, show } from './test_support.js';
import type { Compare, CompareResult, CompareTarget, TxnRequest } from './types.js';

/** Fixture: a=1 (create 2, mod 4, v2, lease 7), b=x (create 3, mod 3, v1); revision 4. */
let store: MvccStore;
beforeEach(() => {
  store = new MvccStore();
  store.leaseGrant('7', 60);
  store.put({ key: enc('a'), value: enc('0') });
  store.put({ key: enc('b'), value: enc('x') });
  store.put({ key: enc('a'), value: enc('1'), lease: '7' });
  expect(store.revision).toBe(4);
});

const cmp = (
  key: string,
  target: CompareTarget,
  result: CompareResult,
  operand: number | string,
  rangeEnd?: Uint8Array,
): Compare => {
  const c: Compare = { key: enc(key), target, result, ...(rangeEnd ? { rangeEnd } : {}) };
  if (target === 'VALUE') c.value = enc(String(operand));
  else if (target === 'LEASE') c.lease = String(operand);
  else if (target === 'VERSION') c.version = Number(operand);
  else if (target === 'CREATE') c.createRevision = Number(operand);
  else c.modRevision = Number(operand);
  return c;
};
const succeeds = (...compare: Compare[]): boolean => store.txn({ compare }).response.succeeded;

describe('compares', () => {
  test.each([
    // target, operand equal to a's field, a smaller operand, a larger operand
    ['VERSION', 2, 1, 3],
    ['CREATE', 2, 1, 3],
    ['MOD', 4, 3, 5],
    ['VALUE', '1', '0', '2'],
    ['LEASE', '7', '6', '8'],
  ] as const)('%s: each result operator', (target, same, smaller, larger) => {
    expect(succeeds(cmp('a', target, 'EQUAL', same))).toBe(true);
    expect(succeeds(cmp('a', target, 'EQUAL', smaller))).toBe(false);
    expect(succeeds(cmp('a', target, 'NOT_EQUAL', smaller))).toBe(true);
    expect(succeeds(cmp('a', target, 'NOT_EQUAL', same))).toBe(false);
    expect(succeeds(cmp('a', target, 'GREATER', smaller))).toBe(true);
    expect(succeeds(cmp('a', target, 'GREATER', same))).toBe(false);
    expect(succeeds(cmp('a', target, 'LESS', larger))).toBe(true);
    expect(succeeds(cmp('a', target, 'LESS', same))).toBe(false);
  });

  test('lease IDs compare as int64 numbers, not as text', () => {
    store.leaseGrant('10', 60);
    store.put({ key: enc('c'), value: enc(''), lease: '10' });
    expect(succeeds(cmp('c', 'LEASE', 'GREATER', '9'))).toBe(true); // "10" < "9" as text
    expect(succeeds(cmp('c', 'LEASE', 'GREATER', '-1'))).toBe(true);
  });

  test('a missing key compares as zeros: version 0, create 0, mod 0, lease 0', () => {
    expect(succeeds(cmp('zz', 'VERSION', 'EQUAL', 0))).toBe(true);
    expect(succeeds(cmp('zz', 'CREATE', 'EQUAL', 0))).toBe(true);
    expect(succeeds(cmp('zz', 'MOD', 'LESS', 1))).toBe(true);
    expect(succeeds(cmp('zz', 'LEASE', 'EQUAL', '0'))).toBe(true);
  });

  test('a VALUE compare on a missing key fails, whatever the operator', () => {
    expect(succeeds(cmp('zz', 'VALUE', 'NOT_EQUAL', 'x'))).toBe(false);
    expect(succeeds(cmp('zz', 'VALUE', 'EQUAL', ''))).toBe(false);
  });

  test('a compare with rangeEnd must hold for every key in the range', () => {
    expect(succeeds(cmp('a', 'VERSION', 'GREATER', 0, FROM_KEY))).toBe(true);
    expect(succeeds(cmp('a', 'VERSION', 'GREATER', 1, FROM_KEY))).toBe(false); // b is at v1
    expect(succeeds(cmp('a', 'MOD', 'LESS', 5, enc('c')))).toBe(true);
    expect(succeeds(cmp('c', 'VERSION', 'EQUAL', 0, FROM_KEY))).toBe(true); // an empty range compares as missing
  });

  test('all compares must hold; the failure branch runs otherwise', () => {
    const { response } = store.txn({
      compare: [cmp('a', 'VALUE', 'EQUAL', '1'), cmp('b', 'VALUE', 'EQUAL', 'nope')],
      success: [put('s', '1')],
      failure: [put('f', '1')],
    });
    expect(response.succeeded).toBe(false);
    expect(store.range({ key: enc('f') }).count).toBe(1);
    expect(store.range({ key: enc('s') }).count).toBe(0);
  });
});

describe('ops and revisions', () => {
  test('every write of a txn shares one revision; events come in op order', () => {
    const { response, events } = store.txn({ success: [put('c', '1'), del('b'), put('a', '2')] });
    expect(response.revision).toBe(5);
    expect(events.map((e) => `${e.type} ${dec(e.kv.key)}@${e.kv.modRevision}`)).toEqual(['PUT c@5', 'DELETE b@5', 'PUT a@5']);
    expect(show(store.range({ key: enc('a') }).kvs[0])).toBe('a=2@5/v3');
  });

  test('reads in a txn see its earlier writes, and their header revision is what they saw', () => {
    const { response } = store.txn({ success: [get('c'), put('c', 'new'), get('c'), del('zz')] });
    const [before, written, after, deletedNothing] = response.responses;
    expect([before?.responseRange?.count, before?.responseRange?.revision]).toEqual([0, 4]);
    expect(written?.responsePut?.revision).toBe(5);
    expect([after?.responseRange?.kvs.map(show), after?.responseRange?.revision]).toEqual([['c=new@5/v1'], 5]);
    expect(deletedNothing?.responseDeleteRange).toEqual({ deleted: 0, prevKvs: [], revision: 5 });
  });

  test('a txn that writes nothing takes no revision', () => {
    const { response, events } = store.txn({ success: [get('a'), del('zz')] });
    expect([response.revision, events, store.revision]).toEqual([4, [], 4]);
    expect(response.responses[1]?.responseDeleteRange?.revision).toBe(4);
  });

  test('an empty txn succeeds with no responses', () => {
    expect(store.txn({}).response).toEqual({ succeeded: true, responses: [], revision: 4 });
  });

  test('ranges in a txn take the usual options', () => {
    const { response } = store.txn({ success: [{ requestRange: { key: enc('a'), rangeEnd: FROM_KEY, limit: 1, revision: 3 } }] });
    const r = response.responses[0]?.responseRange;
    expect([r?.kvs.map(show), r?.more, r?.count]).toEqual([['a=0@2/v1'], true, 2]);
  });

  test('put prevKv and delete prevKv inside a txn', () => {
    const deleteB = { requestDeleteRange: { key: enc('b'), prevKv: true } };
    const { response } = store.txn({ success: [put('a', '9', { prevKv: true }), deleteB] });
    expect(show(response.responses[0]?.responsePut?.prevKv)).toBe('a=1@4/v2');
    expect(response.responses[1]?.responseDeleteRange?.prevKvs.map(show)).toEqual(['b=x@3/v1']);
  });
});

describe('nested txns', () => {
  test('nested compares are evaluated against the state before the txn', () => {
    const request: TxnRequest = {
      success: [
        put('a', 'changed'),
        // Against the txn's own write a would not equal 1; etcd evaluates every compare first.
        {
          requestTxn: {
            compare: [cmp('a', 'VALUE', 'EQUAL', '1')],
            success: [put('saw-old', 'yes')],
            failure: [put('saw-new', 'yes')],
          },
        },
      ],
    };
    const { response } = store.txn(request);
    expect(store.range({ key: enc('saw-old') }).count).toBe(1);
    expect(store.range({ key: enc('saw-new') }).count).toBe(0);
    const nested = response.responses[1]?.responseTxn;
    // etcd fills only the top header: a nested txn reports revision 0.
    expect([nested?.succeeded, nested?.revision, nested?.responses[0]?.responsePut?.revision]).toEqual([true, 0, 5]);
    expect(response.revision).toBe(5);
  });

  test('nested txns several levels deep take their own branches', () => {
    const deep: TxnRequest = {
      compare: [cmp('b', 'VERSION', 'EQUAL', 1)],
      success: [
        {
          requestTxn: {
            compare: [cmp('zz', 'VERSION', 'GREATER', 0)],
            success: [put('x1', '')],
            failure: [{ requestTxn: { success: [put('x2', '')] } }, put('x3', '')],
          },
        },
        { requestTxn: { compare: [cmp('a', 'VERSION', 'EQUAL', 2)], success: [put('x4', '')] } },
      ],
    };
    const { events } = store.txn(deep);
    expect(events.map((e) => dec(e.kv.key))).toEqual(['x2', 'x3', 'x4']);
  });
});

describe('refusals leave the store unchanged', () => {
  const refuses = (request: TxnRequest, error: Parameters<typeof expectEtcdError>[1]): void => {
    const before = store.snapshot();
    expectEtcdError(() => store.txn(request), error);
    expect(store.snapshot()).toEqual(before);
  };

  test('the same key put twice', () => {
    refuses({ success: [put('k', '1'), put('k', '2')] }, ERR_DUPLICATE_KEY);
  });

  test('a key put and deleted, in either order, directly or by range', () => {
    refuses({ success: [put('k', '1'), del('k')] }, ERR_DUPLICATE_KEY);
    refuses({ success: [del('k'), put('k', '1')] }, ERR_DUPLICATE_KEY);
    refuses({ success: [del('j', enc('l')), put('k', '1')] }, ERR_DUPLICATE_KEY);
  });

  test('a key put in a nested txn and in its parent', () => {
    refuses({ success: [put('k', '1'), { requestTxn: { success: [put('k', '2')] } }] }, ERR_DUPLICATE_KEY);
    refuses({ success: [del('k'), { requestTxn: { failure: [put('k', '2')] } }] }, ERR_DUPLICATE_KEY);
    refuses({ success: [nested([put('k', '1')]), nested([], [put('k', '2')])] }, ERR_DUPLICATE_KEY);
    refuses({ success: [nested([del('j', enc('l'))]), nested([put('k', '2')])] }, ERR_DUPLICATE_KEY);
  });

  test('but the same key in both branches of one nested txn is fine, and so are success vs failure', () => {
    expect(() => store.txn({ success: [{ requestTxn: { success: [put('k', '1')], failure: [put('k', '2')] } }] })).not.toThrow();
    expect(() => store.txn({ success: [put('k', '1')], failure: [put('k', '2'), del('k2')] })).not.toThrow();
  });

  test('etcd blind spots that pass: a put in one nested txn and a delete in a later one', () => {
    const { events } = store.txn({ success: [nested([put('q', '1')]), nested([del('q')])] });
    expect(events.map((e) => `${e.type} ${dec(e.kv.key)}`)).toEqual(['PUT q', 'DELETE q']);
    expect(store.range({ key: enc('q') }).count).toBe(0);
    // and a from-key delete before a put: etcd's check does not see "\0"-ended ranges.
    const second = store.txn({ success: [del('b', FROM_KEY), put('b', 'again')] });
    expect(second.events.map((e) => `${e.type} ${dec(e.kv.key)}`)).toEqual(['DELETE b', 'PUT b']);
  });

  test('a from-key delete then an ignoreValue put of a deleted key (etcd panics): refused whole', () => {
    refuses({ success: [del('a', FROM_KEY), put('a', '', { ignoreValue: true })] }, ERR_KEY_NOT_FOUND);
  });

  test('ignoreValue on a missing key; an unknown lease (in a txn the key is checked first)', () => {
    refuses({ success: [put('a', '2'), put('zz', '', { ignoreValue: true })] }, ERR_KEY_NOT_FOUND);
    refuses({ success: [put('a', '2', { lease: '99' })] }, ERR_LEASE_NOT_FOUND);
    refuses({ success: [put('zz', '', { ignoreValue: true, lease: '99' })] }, ERR_KEY_NOT_FOUND);
  });

  test('only the branch that runs is checked', () => {
    expect(store.txn({ success: [put('a', '2')], failure: [put('zz', '', { ignoreValue: true })] }).response.succeeded).toBe(true);
  });

  test('a range at a future or compacted revision', () => {
    refuses({ success: [put('a', '2'), { requestRange: { key: enc('a'), revision: 5 } }] }, ERR_FUTURE_REV);
    store.compact({ revision: 3 });
    refuses({ success: [put('a', '2'), { requestRange: { key: enc('a'), revision: 2 } }] }, ERR_COMPACTED);
  });

  test('too many ops, empty keys, and an op with no request', () => {
    const many = Array.from({ length: 129 }, (_, i) => get(`k${i}`));
    refuses({ success: many }, ERR_TOO_MANY_OPS);
    refuses({ compare: [{ key: new Uint8Array(0), target: 'VERSION', result: 'EQUAL' }] }, ERR_EMPTY_KEY);
    refuses({ failure: [{ requestPut: { key: new Uint8Array(0) } }] }, ERR_EMPTY_KEY);
    refuses({ success: [{}] }, ERR_KEY_NOT_FOUND); // etcd's answer to an empty RequestOp
    expect(() => new MvccStore({ maxTxnOps: 200 }).txn({ success: many })).not.toThrow();
  });
});
