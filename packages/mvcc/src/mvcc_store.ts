import { invariant } from '@k8ts/base';
import { toKeyString } from './bytes.js';
import { compact } from './compaction.js';
import { ERR_KEY_NOT_FOUND, ERR_LEASE_NOT_FOUND, fail } from './errors.js';
import { canonicalLeaseId } from './lease_id.js';
import { executeDeleteRange, executePut } from './ops.js';
import { applyRange } from './range.js';
import { LEASE_BYTES } from './snapshot_layout.js';
import { decodeSnapshot, encodeSnapshot, snapshotSize, SnapshotEncoder } from './snapshot.js';
import { StoreState } from './store_state.js';
import {
  checkDeleteRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  DEFAULT_MAX_TXN_OPS,
} from './txn_check.js';
import { applyTxn } from './txn.js';
import type {
  Applied,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseId,
  LeaseInfo,
  LeaseRevokeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from './types.js';
import { eventsSince, type WatchHistory } from './watch_history.js';
import { WriteTxn } from './write_txn.js';

export interface MvccStoreOptions {
  /**
   * etcd raises a granted TTL to its minimum: ceil(1.5 × election timeout) seconds, 2 with etcd's
   * defaults (10 ticks of 100 ms). Every member must be configured alike.
   */
  minLeaseTtlSeconds?: number;
  /** etcd's --max-txn-ops. */
  maxTxnOps?: number;
}

/**
 * etcd 3.4's multi-version key-value store as a replicated state machine: give every member the same
 * committed commands in the same order and they reach byte-identical state (snapshot() is the proof).
 * No I/O, clock or randomness: lease expiry and ID generation belong to the service's leader.
 *
 * Contract:
 *  - Every method either applies its request whole or throws an EtcdError (etcd's code and message)
 *    having changed nothing. Other exceptions are bugs (@k8ts/base's InvariantError) or malformed input
 *    (TypeError for a lease ID that is not an int64).
 *  - Each write request takes one revision, whatever it writes; a request that writes nothing (a
 *    delete of missing keys, a txn that only reads, revoking a lease without keys) takes none.
 *  - Write methods return their events: what watchers of this revision must be sent.
 *  - Returned objects are shared with the store and must not be mutated; inputs are copied.
 */
export class MvccStore {
  private readonly minLeaseTtlSeconds: number;
  private readonly maxTxnOps: number;

  /** `state` is for restore(): a new store starts empty. */
  constructor(
    options: MvccStoreOptions = {},
    private readonly state: StoreState = new StoreState(),
  ) {
    this.minLeaseTtlSeconds = options.minLeaseTtlSeconds ?? 2;
    this.maxTxnOps = options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
  }

  /** A store holding exactly the state `snapshot()` wrote. */
  static restore(bytes: Uint8Array, options: MvccStoreOptions = {}): MvccStore {
    return new MvccStore(options, decodeSnapshot(bytes));
  }

  /** The current revision: 1 for an empty store, +1 per write request. */
  get revision(): number {
    return this.state.currentRevision;
  }

  /** The last compaction revision, -1 before any (etcd's compactMainRev). */
  get compactRevision(): number {
    return this.state.compactRevision;
  }

  range(r: RangeRequest): RangeResponse {
    checkRangeRequest(r);
    return applyRange(this.state, r, this.state.currentRevision);
  }

  put(r: PutRequest): Applied<PutResponse> {
    checkPutRequest(r);
    // etcd's order outside a txn: the lease first, then the key ignore* needs.
    const lease = canonicalLeaseId(r.lease);
    if (lease !== '0' && !this.state.lessor.has(lease)) fail(ERR_LEASE_NOT_FOUND);
    if ((r.ignoreValue || r.ignoreLease) && this.state.index.get(toKeyString(r.key))?.current() === undefined) {
      fail(ERR_KEY_NOT_FOUND);
    }
    return this.write((txn) => executePut(txn, r));
  }

  deleteRange(r: DeleteRangeRequest): Applied<DeleteRangeResponse> {
    checkDeleteRequest(r);
    return this.write((txn) => executeDeleteRange(txn, r));
  }

  txn(r: TxnRequest): Applied<TxnResponse> {
    checkTxnRequest(r, this.maxTxnOps);
    return applyTxn(this.state, r);
  }

  /**
   * Forgets history before `revision`: ranges at older revisions and watches from them fail with
   * "compacted"; every key's newest version at `revision` stays, so ranges at or after it still work.
   */
  compact(r: CompactionRequest): CompactionResponse {
    compact(this.state, r.revision);
    return { revision: this.state.currentRevision };
  }

  /** Creates lease `id` (chosen by the service's leader, never '0'). */
  leaseGrant(id: LeaseId, ttlSeconds: number): LeaseGrantResponse {
    if (!Number.isSafeInteger(ttlSeconds)) throw new TypeError(`lease TTL ${ttlSeconds} is not an integer`);
    const lease = this.state.lessor.grant(canonicalLeaseId(id), ttlSeconds, this.minLeaseTtlSeconds);
    this.state.dataBytes += LEASE_BYTES;
    return { id: lease.id, ttl: lease.ttlSeconds, revision: this.state.currentRevision };
  }

  /** Deletes every key attached to `id`, in key order, in one revision, then forgets the lease. */
  leaseRevoke(id: LeaseId): Applied<LeaseRevokeResponse> {
    const leaseId = canonicalLeaseId(id);
    const lessor = this.state.lessor;
    if (!lessor.has(leaseId)) fail(ERR_LEASE_NOT_FOUND);
    const applied = this.write((txn) => {
      for (const key of lessor.keysOf(leaseId)) {
        const deleted = txn.deleteRange({ kind: 'single', key });
        invariant(deleted === 1, 'lease revoke: an attached key was not live');
      }
      lessor.remove(leaseId);
      this.state.dataBytes -= LEASE_BYTES;
      return {};
    });
    return { response: { revision: this.state.currentRevision }, events: applied.events };
  }

  lease(id: LeaseId): LeaseInfo | undefined {
    return this.state.lessor.info(canonicalLeaseId(id));
  }

  leases(): Array<{ id: LeaseId; ttl: number }> {
    return this.state.lessor.list();
  }

  /** History for a watcher starting at `startRevision`; see WatchHistory. */
  eventsSince(
    startRevision: number,
    key: Uint8Array,
    rangeEnd?: Uint8Array,
    options: { maxRevisions?: number } = {},
  ): WatchHistory {
    return eventsSince(this.state, startRevision, key, rangeEnd, options.maxRevisions);
  }

  /** The whole state as bytes; equal states give equal bytes. */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.state);
  }

  /**
   * The same bytes for the state as it is now, encoded a step at a time while writes go on, after
   * `reserve` bytes left for the caller.
   */
  snapshotEncoder(reserve = 0): SnapshotEncoder {
    return new SnapshotEncoder(this.state, reserve);
  }

  /** The size of the state: exactly snapshot().length, for Status's dbSize. */
  sizeBytes(): number {
    return snapshotSize(this.state);
  }

  private write<R>(body: (txn: WriteTxn) => R): Applied<R> {
    const txn = new WriteTxn(this.state);
    const response = body(txn);
    return { response, events: txn.end() };
  }
}
