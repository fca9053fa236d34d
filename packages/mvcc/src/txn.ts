import { toKeyString } from './bytes.js';
import { evaluateCompare } from './compare.js';
import { ERR_COMPACTED, ERR_FUTURE_REV, ERR_KEY_NOT_FOUND, ERR_LEASE_NOT_FOUND, fail } from './errors.js';
import { keySpan, spanContains, type KeySpan } from './key_span.js';
import { canonicalLeaseId } from './lease_id.js';
import { executeDeleteRange, executePut } from './ops.js';
import type { StoreState } from './store_state.js';
import type { Applied, RequestOp, ResponseOp, TxnRequest, TxnResponse } from './types.js';
import { WriteTxn } from './write_txn.js';

/** Which branch each txn takes: the top txn's, then one per nested txn of the chosen branch, in order. */
interface TxnPath {
  readonly succeeded: boolean;
  readonly nested: TxnPath[];
}

const branch = (rt: TxnRequest, succeeded: boolean): RequestOp[] => (succeeded ? rt.success : rt.failure) ?? [];

/**
 * A txn the way etcd's applier runs it (etcdserver/apply.go Txn). The request passed checkTxnRequest.
 *  1. Every compare, nested txns' included, is evaluated against the state before the txn.
 *  2. The ops on that path are checked before any write: puts (ignore* on a missing key, unknown
 *     lease), then ranges (future or compacted revision). A failure refuses the whole txn.
 *  3. The ops run in order at one revision; reads see the txn's earlier writes.
 */
export function applyTxn(state: StoreState, rt: TxnRequest): Applied<TxnResponse> {
  const begin = state.currentRevision;
  const path = choosePath(state, rt, begin);
  forEachChosenOp(rt, path, (op) => checkPut(state, op, begin));
  forEachChosenOp(rt, path, (op) => checkRange(state, op, begin));
  checkIgnoredKeysSurvive(rt, path);

  const txn = new WriteTxn(state);
  const response = runBranch(txn, rt, path);
  const events = txn.end();
  return { response: { ...response, revision: state.currentRevision }, events };
}

function choosePath(state: StoreState, rt: TxnRequest, revision: number): TxnPath {
  const succeeded = (rt.compare ?? []).every((c) => evaluateCompare(state, c, revision));
  const nested = branch(rt, succeeded)
    .filter((op) => op.requestTxn !== undefined)
    .map((op) => choosePath(state, op.requestTxn as TxnRequest, revision));
  return { succeeded, nested };
}

/** Visits the non-txn ops that will run, in execution order. */
function forEachChosenOp(rt: TxnRequest, path: TxnPath, visit: (op: RequestOp) => void): void {
  let nestedIndex = 0;
  for (const op of branch(rt, path.succeeded)) {
    if (op.requestTxn) forEachChosenOp(op.requestTxn, path.nested[nestedIndex++] as TxnPath, visit);
    else visit(op);
  }
}

function checkPut(state: StoreState, op: RequestOp, revision: number): void {
  const p = op.requestPut;
  if (!p) return;
  if (p.ignoreValue || p.ignoreLease) {
    if (state.index.get(toKeyString(p.key))?.get(revision) === undefined) fail(ERR_KEY_NOT_FOUND);
  }
  const lease = canonicalLeaseId(p.lease);
  if (lease !== '0' && !state.lessor.has(lease)) fail(ERR_LEASE_NOT_FOUND);
}

function checkRange(state: StoreState, op: RequestOp, revision: number): void {
  const requested = op.requestRange?.revision ?? 0;
  if (requested === 0) return;
  if (requested > revision) fail(ERR_FUTURE_REV);
  if (requested < state.compactRevision) fail(ERR_COMPACTED);
}

/**
 * etcd's overlap check ignores from-key deletes (rangeEnd [0]), so a txn can delete a key and then
 * put it with ignoreValue/ignoreLease; etcd then panics mid-apply. We refuse such a txn up front with
 * the error etcd hits, so that no member is left half-written.
 */
function checkIgnoredKeysSurvive(rt: TxnRequest, path: TxnPath): void {
  const deleted: KeySpan[] = [];
  forEachChosenOp(rt, path, (op) => {
    if (op.requestDeleteRange) deleted.push(keySpan(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd));
    const p = op.requestPut;
    if (p && (p.ignoreValue || p.ignoreLease)) {
      const key = toKeyString(p.key);
      if (deleted.some((span) => spanContains(span, key))) fail(ERR_KEY_NOT_FOUND);
    }
  });
}

function runBranch(txn: WriteTxn, rt: TxnRequest, path: TxnPath): TxnResponse {
  let nestedIndex = 0;
  const responses: ResponseOp[] = branch(rt, path.succeeded).map((op): ResponseOp => {
    if (op.requestRange) return { responseRange: txn.range(op.requestRange) };
    if (op.requestPut) return { responsePut: executePut(txn, op.requestPut) };
    if (op.requestDeleteRange) return { responseDeleteRange: executeDeleteRange(txn, op.requestDeleteRange) };
    if (op.requestTxn) return { responseTxn: runBranch(txn, op.requestTxn, path.nested[nestedIndex++] as TxnPath) };
    return {};
  });
  // etcd fills the header of the top txn only: a nested txn's header revision stays 0.
  return { succeeded: path.succeeded, responses, revision: 0 };
}
