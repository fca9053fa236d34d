import { EtcdError } from './errors.js';
import type { MvccStore } from './mvcc_store.js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  LeaseGrantResponse,
  LeaseId,
  LeaseRevokeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from './types.js';

/** Every request that changes the store (and range, for linearizable reads applied in log order). */
export type StoreCommand =
  | { readonly type: 'range'; readonly request: RangeRequest }
  | { readonly type: 'put'; readonly request: PutRequest }
  | { readonly type: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly type: 'txn'; readonly request: TxnRequest }
  | { readonly type: 'compaction'; readonly request: CompactionRequest }
  | { readonly type: 'leaseGrant'; readonly id: LeaseId; readonly ttl: number }
  | { readonly type: 'leaseRevoke'; readonly id: LeaseId };

export type CommandResponse =
  | RangeResponse
  | PutResponse
  | DeleteRangeResponse
  | TxnResponse
  | CompactionResponse
  | LeaseGrantResponse
  | LeaseRevokeResponse;

/** A command's outcome: etcd's refusal is an outcome too, the same on every member. */
export type CommandOutcome =
  | { readonly ok: true; readonly response: CommandResponse; readonly events: Event[] }
  | { readonly ok: false; readonly error: EtcdError };

/**
 * Applies one committed command, for a driver that applies a Raft log: etcd's refusals come back as
 * values (they are answers for the client, and leave the store unchanged); anything else is a bug
 * and is thrown.
 */
export function applyCommand(store: MvccStore, command: StoreCommand): CommandOutcome {
  try {
    switch (command.type) {
      case 'range':
        return { ok: true, response: store.range(command.request), events: [] };
      case 'put':
        return { ok: true, ...store.put(command.request) };
      case 'deleteRange':
        return { ok: true, ...store.deleteRange(command.request) };
      case 'txn':
        return { ok: true, ...store.txn(command.request) };
      case 'compaction':
        return { ok: true, response: store.compact(command.request), events: [] };
      case 'leaseGrant':
        return { ok: true, response: store.leaseGrant(command.id, command.ttl), events: [] };
      case 'leaseRevoke':
        return { ok: true, ...store.leaseRevoke(command.id) };
    }
  } catch (error) {
    if (error instanceof EtcdError) return { ok: false, error };
    throw error;
  }
}
