import {
  MvccStore,
  type Applied,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type Event,
  type LeaseGrantResponse,
  type LeaseRevokeResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
  type SnapshotEncoder,
} from '@k8ts/mvcc';
import type { KeyValueStore } from './state_machine.js';

/** packages/mvcc's store as the state machine's KeyValueStore. */
export class MvccKeyValueStore implements KeyValueStore {
  constructor(private readonly store: MvccStore) {}

  static create(minLeaseTtlSeconds: number): MvccKeyValueStore {
    return new MvccKeyValueStore(new MvccStore({ minLeaseTtlSeconds }));
  }

  static restore(bytes: Uint8Array, minLeaseTtlSeconds: number): MvccKeyValueStore {
    return new MvccKeyValueStore(MvccStore.restore(bytes, { minLeaseTtlSeconds }));
  }

  currentRevision(): number {
    return this.store.revision;
  }

  compactRevision(): number {
    return this.store.compactRevision;
  }

  eventsSince(startRevision: number, key: Uint8Array, rangeEnd: Uint8Array): Event[] {
    const history = this.store.eventsSince(startRevision, key, rangeEnd, { maxRevisions: Number.MAX_SAFE_INTEGER });
    return history.compacted ? [] : history.events;
  }

  range(request: RangeRequest): RangeResponse {
    return this.store.range(request);
  }

  put(request: PutRequest): Applied<PutResponse> {
    return this.store.put(request);
  }

  deleteRange(request: DeleteRangeRequest): Applied<DeleteRangeResponse> {
    return this.store.deleteRange(request);
  }

  txn(request: TxnRequest): Applied<TxnResponse> {
    return this.store.txn(request);
  }

  compact(request: CompactionRequest): CompactionResponse {
    return this.store.compact(request);
  }

  leaseRevoke(id: string): Applied<LeaseRevokeResponse> {
    return this.store.leaseRevoke(id);
  }

  leases(): { id: string; ttl: number }[] {
    return this.store.leases();
  }

  snapshot(): Uint8Array {
    return this.store.snapshot();
  }

  snapshotEncoder(reserve?: number): SnapshotEncoder {
    return this.store.snapshotEncoder(reserve);
  }

  sizeBytes(): number {
    return this.store.sizeBytes();
  }

  leaseGrant(id: string, ttlSeconds: number): Applied<LeaseGrantResponse> {
    return { response: this.store.leaseGrant(id, ttlSeconds), events: [] };
  }

  leaseInfo(id: string): ReturnType<MvccStore['lease']> {
    return this.store.lease(id);
  }
}
