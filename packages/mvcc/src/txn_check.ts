/**
 * The request checks etcd makes before a request reaches Raft (etcdserver/api/v3rpc/key.go), so a
 * command that would be refused is refused whole, before anything is written. The store runs them
 * again on apply: a refused command must leave every member unchanged.
 */
import { toKeyString } from './bytes.js';
import {
  ERR_DUPLICATE_KEY,
  ERR_EMPTY_KEY,
  ERR_KEY_NOT_FOUND,
  ERR_LEASE_PROVIDED,
  ERR_TOO_MANY_OPS,
  ERR_VALUE_PROVIDED,
  fail,
} from './errors.js';
import { canonicalLeaseId } from './lease_id.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.js';

/** etcd's --max-txn-ops default. */
export const DEFAULT_MAX_TXN_OPS = 128;

export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) fail(ERR_EMPTY_KEY);
}

export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) fail(ERR_EMPTY_KEY);
  if (r.ignoreValue && (r.value?.length ?? 0) !== 0) fail(ERR_VALUE_PROVIDED);
  if (r.ignoreLease && canonicalLeaseId(r.lease) !== '0') fail(ERR_LEASE_PROVIDED);
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) fail(ERR_EMPTY_KEY);
}

/** Shape checks, then etcd's put/delete overlap rule on each branch. */
export function checkTxnRequest(r: TxnRequest, maxTxnOps: number = DEFAULT_MAX_TXN_OPS): void {
  checkTxnShape(r, maxTxnOps);
  // Checked after the shape, as etcd does, to avoid quadratic work on oversized requests.
  checkIntervals(r.success ?? []);
  checkIntervals(r.failure ?? []);
}

function checkTxnShape(r: TxnRequest, maxTxnOps: number): void {
  const compare = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const opCount = Math.max(compare.length, success.length, failure.length);
  if (opCount > maxTxnOps) fail(ERR_TOO_MANY_OPS);
  for (const c of compare) if (c.key.length === 0) fail(ERR_EMPTY_KEY);
  // A nested txn gets what its parent leaves of the budget, as in etcd.
  for (const op of success) checkRequestOp(op, maxTxnOps - opCount);
  for (const op of failure) checkRequestOp(op, maxTxnOps - opCount);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if (op.requestRange) return checkRangeRequest(op.requestRange);
  if (op.requestPut) return checkPutRequest(op.requestPut);
  if (op.requestDeleteRange) return checkDeleteRequest(op.requestDeleteRange);
  if (op.requestTxn) return checkTxnShape(op.requestTxn, maxTxnOps);
  fail(ERR_KEY_NOT_FOUND); // etcd's answer to an empty RequestOp
}

/**
 * An interval of binary-string keys in etcd's "affine" order, where the empty string sorts after
 * everything (an empty end means "to the end of the keyspace").
 */
interface Interval {
  begin: string;
  end: string;
}

function affineCompare(a: string, b: string): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** etcd's adt Interval.Compare: 0 when the two overlap. */
function compareIntervals(a: Interval, b: Interval): number {
  if (affineCompare(a.begin, b.begin) < 0 && affineCompare(a.end, b.begin) <= 0) return -1;
  if (affineCompare(a.begin, b.end) >= 0) return 1;
  return 0;
}

const point = (key: string): Interval => ({ begin: key, end: key + '\u0000' });
const intersects = (dels: Interval[], key: string): boolean =>
  dels.some((iv) => compareIntervals(point(key), iv) === 0);

/**
 * etcd's checkIntervals: within one branch no key may be put twice or both put and deleted, nested
 * txns included (a key put by both branches of one nested txn is fine: only one runs). The walk order
 * is etcd's, so exactly the requests etcd refuses are refused — including its blind spot: a put in
 * one nested txn and a delete of the same key in a later sibling pass.
 */
function checkIntervals(reqs: RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of reqs) {
    const d = op.requestDeleteRange;
    if (!d) continue;
    const begin = toKeyString(d.key);
    const rangeEnd = d.rangeEnd ?? new Uint8Array(0);
    dels.push(rangeEnd.length !== 0 ? { begin, end: toKeyString(rangeEnd) } : point(begin));
  }

  const puts = new Set<string>();
  const everything: Interval = { begin: '\u0000', end: '' };
  for (const op of reqs) {
    const t = op.requestTxn;
    if (!t) continue;
    const then = checkIntervals(t.success ?? []);
    const otherwise = checkIntervals(t.failure ?? []);
    for (const k of then.puts) {
      if (puts.has(k) || intersects(dels, k)) fail(ERR_DUPLICATE_KEY);
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if (puts.has(k) && !then.puts.has(k)) fail(ERR_DUPLICATE_KEY);
      if (intersects(dels, k)) fail(ERR_DUPLICATE_KEY);
      puts.add(k);
    }
    // etcd merges only the nested deletes that overlap ["\0", end): a from-key delete ("\0" end) is
    // left out (such an interval never overlaps a put key anyway).
    for (const iv of [...then.dels, ...otherwise.dels]) {
      if (compareIntervals(everything, iv) === 0) dels.push(iv);
    }
  }

  for (const op of reqs) {
    const p = op.requestPut;
    if (!p) continue;
    const k = toKeyString(p.key);
    if (puts.has(k) || intersects(dels, k)) fail(ERR_DUPLICATE_KEY);
    puts.add(k);
  }
  return { puts, dels };
}
