import { invariant } from '@k8ts/base';
import { keySpan } from './key_span.js';
import { canonicalLeaseId } from './lease_id.js';
import type { WriteTxn } from './write_txn.js';
import type { DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse } from './types.js';

/**
 * A put inside a write txn, after its checks passed (etcd's applierV3backend.Put with a txn): the
 * previous value is read only when ignoreValue, ignoreLease or prevKv asks for it.
 */
export function executePut(txn: WriteTxn, p: PutRequest): PutResponse {
  let value = p.value ?? new Uint8Array(0);
  let lease = canonicalLeaseId(p.lease);
  const needPrevious = p.ignoreValue || p.ignoreLease || p.prevKv;
  const previous = needPrevious ? txn.get(p.key) : undefined;
  if (p.ignoreValue || p.ignoreLease) {
    invariant(previous !== undefined, 'put: ignoreValue/ignoreLease on a missing key passed its check');
    if (p.ignoreValue) value = previous.value;
    if (p.ignoreLease) lease = previous.lease;
  }
  txn.put(p.key, value, lease);
  const response: PutResponse = { revision: txn.writeRevision };
  if (p.prevKv && previous !== undefined) response.prevKv = previous;
  return response;
}

/** A delete inside a write txn. Its revision moves only if this txn has written something. */
export function executeDeleteRange(txn: WriteTxn, d: DeleteRangeRequest): DeleteRangeResponse {
  const span = keySpan(d.key, d.rangeEnd);
  const prevKvs = d.prevKv ? txn.range({ key: d.key, rangeEnd: d.rangeEnd }).kvs : [];
  const deleted = txn.deleteRange(span);
  return { deleted, prevKvs, revision: txn.changed ? txn.writeRevision : txn.writeRevision - 1 };
}
