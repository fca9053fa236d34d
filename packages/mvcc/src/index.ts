export { MvccStore, type MvccStoreOptions } from './mvcc_store.js';
export { applyCommand, type CommandOutcome, type CommandResponse, type StoreCommand } from './command.js';
export { DEFAULT_MAX_REVISIONS_PER_BATCH, type WatchHistory } from './watch_history.js';
export {
  checkDeleteRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  DEFAULT_MAX_TXN_OPS,
} from './txn_check.js';
export { MAX_LEASE_TTL_SECONDS } from './lessor.js';
export { canonicalLeaseId, compareLeaseIds } from './lease_id.js';
export { compareBytes } from './bytes.js';
export { SnapshotFormatError, type SnapshotEncoder } from './snapshot.js';
export {
  EtcdError,
  GRPC_STATUS,
  type EtcdErrorSpec,
  type GrpcStatusName,
  ERR_COMPACTED,
  ERR_DUPLICATE_KEY,
  ERR_EMPTY_KEY,
  ERR_FUTURE_REV,
  ERR_KEY_NOT_FOUND,
  ERR_LEASE_EXIST,
  ERR_LEASE_NOT_FOUND,
  ERR_LEASE_PROVIDED,
  ERR_LEASE_TTL_TOO_LARGE,
  ERR_TOO_MANY_OPS,
  ERR_VALUE_PROVIDED,
} from './errors.js';
export { NO_LEASE } from './types.js';
export type * from './types.js';
