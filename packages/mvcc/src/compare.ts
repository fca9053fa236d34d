import { compareBytes, EMPTY_BYTES } from './bytes.js';
import { keySpan } from './key_span.js';
import { canonicalLeaseId, compareLeaseIds } from './lease_id.js';
import { rangeKeys } from './range.js';
import type { StoreState } from './store_state.js';
import type { Compare, KeyValue } from './types.js';

const ABSENT: KeyValue = {
  key: EMPTY_BYTES,
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: EMPTY_BYTES,
  lease: '0',
};

/**
 * etcd's applyCompare: true when every key in the compare's range passes. No key at all compares as
 * a zero KeyValue (version, revisions and lease 0), except for VALUE, which then fails whatever the
 * result operator — so `value != x` on a missing key is false, as in etcd.
 */
export function evaluateCompare(state: StoreState, c: Compare, currentRevision: number): boolean {
  const { kvs } = rangeKeys(state, keySpan(c.key, c.rangeEnd), currentRevision, {
    revision: 0,
    limit: 0,
    countOnly: false,
  });
  if (kvs.length === 0) return c.target !== 'VALUE' && compareKeyValue(c, ABSENT);
  return kvs.every((kv) => compareKeyValue(c, kv));
}

function compareKeyValue(c: Compare, kv: KeyValue): boolean {
  const order = targetOrder(c, kv);
  switch (c.result) {
    case 'EQUAL':
      return order === 0;
    case 'NOT_EQUAL':
      return order !== 0;
    case 'GREATER':
      return order > 0;
    case 'LESS':
      return order < 0;
  }
}

function targetOrder(c: Compare, kv: KeyValue): number {
  const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
  switch (c.target) {
    case 'VALUE':
      return compareBytes(kv.value, c.value ?? EMPTY_BYTES);
    case 'CREATE':
      return sign(kv.createRevision - (c.createRevision ?? 0));
    case 'MOD':
      return sign(kv.modRevision - (c.modRevision ?? 0));
    case 'VERSION':
      return sign(kv.version - (c.version ?? 0));
    case 'LEASE':
      return compareLeaseIds(kv.lease, canonicalLeaseId(c.lease));
  }
}
