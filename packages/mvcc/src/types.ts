/**
 * Requests, responses and records shaped after etcd's protobuf messages (rpc.proto, kv.proto) in
 * camelCase. Keys and values are bytes, ordered bytewise. Revisions are numbers (they stay far below
 * 2^53). Lease IDs are int64s written as canonical decimal strings, '0' meaning "no lease".
 *
 * Responses carry no header: the service adds cluster, member and term. Each does carry `revision`,
 * the header revision etcd would put on that response, because only the store knows it (a txn's inner
 * range sees the revision before the txn's first write; a delete that deletes nothing keeps the
 * revision; a nested txn's header is left empty by etcd, so its revision is 0).
 */

export type LeaseId = string;
export const NO_LEASE: LeaseId = '0';

/** One version of a key (mvccpb.KeyValue). Returned objects are shared with the store: don't mutate. */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  /** 1 on creation, +1 per put; a deleted-and-recreated key starts again at 1. */
  readonly version: number;
  readonly value: Uint8Array;
  readonly lease: LeaseId;
}

export type EventType = 'PUT' | 'DELETE';

/**
 * One change (mvccpb.Event). A DELETE's kv holds only the key and the deleting revision as
 * modRevision, like etcd's tombstone. prevKv is the key's value just before the change's revision,
 * when that revision is not compacted.
 */
export interface Event {
  readonly type: EventType;
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeRequest {
  key: Uint8Array;
  /** Empty: the single key. [0]: every key >= key. Otherwise the half-open range [key, rangeEnd). */
  rangeEnd?: Uint8Array | undefined;
  /** 0: no limit. */
  limit?: number | undefined;
  /** <= 0: the current revision. */
  revision?: number | undefined;
  sortOrder?: SortOrder | undefined;
  sortTarget?: SortTarget | undefined;
  /** Consistency is the service's concern; the store answers from its state either way. */
  serializable?: boolean | undefined;
  keysOnly?: boolean | undefined;
  countOnly?: boolean | undefined;
  minModRevision?: number | undefined;
  maxModRevision?: number | undefined;
  minCreateRevision?: number | undefined;
  maxCreateRevision?: number | undefined;
}

export interface RangeResponse {
  kvs: KeyValue[];
  /** More keys matched than `limit` let through. */
  more: boolean;
  /** Keys in the range at the revision, before filters and limit. */
  count: number;
  revision: number;
}

export interface PutRequest {
  key: Uint8Array;
  value?: Uint8Array | undefined;
  lease?: LeaseId | undefined;
  prevKv?: boolean | undefined;
  ignoreValue?: boolean | undefined;
  ignoreLease?: boolean | undefined;
}

export interface PutResponse {
  prevKv?: KeyValue;
  revision: number;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array | undefined;
  prevKv?: boolean | undefined;
}

export interface DeleteRangeResponse {
  deleted: number;
  prevKvs: KeyValue[];
  revision: number;
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

/** The field named by `target` is the operand; an unset operand compares as 0 (or empty bytes). */
export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Uint8Array;
  rangeEnd?: Uint8Array | undefined;
  version?: number | undefined;
  createRevision?: number | undefined;
  modRevision?: number | undefined;
  value?: Uint8Array | undefined;
  lease?: LeaseId | undefined;
}

/** A protobuf oneof: exactly one member is set (etcd answers "key not found" when none is). */
export interface RequestOp {
  requestRange?: RangeRequest | undefined;
  requestPut?: PutRequest | undefined;
  requestDeleteRange?: DeleteRangeRequest | undefined;
  requestTxn?: TxnRequest | undefined;
}

export interface ResponseOp {
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}

export interface TxnRequest {
  compare?: Compare[] | undefined;
  success?: RequestOp[] | undefined;
  failure?: RequestOp[] | undefined;
}

export interface TxnResponse {
  succeeded: boolean;
  responses: ResponseOp[];
  revision: number;
}

export interface CompactionRequest {
  revision: number;
  /** etcd waits for the physical compaction when set; here compaction is always done on return. */
  physical?: boolean | undefined;
}

export interface CompactionResponse {
  revision: number;
}

export interface LeaseGrantResponse {
  id: LeaseId;
  /** The granted TTL in seconds: the request's, raised to the store's minimum. */
  ttl: number;
  revision: number;
}

export interface LeaseRevokeResponse {
  revision: number;
}

export interface LeaseInfo {
  id: LeaseId;
  /** The granted TTL in seconds; remaining time is the leader's to track. */
  ttl: number;
  /** The attached keys, bytewise ascending. */
  keys: Uint8Array[];
}

/** What a write produced: the response, and the events it committed (in revision order). */
export interface Applied<R> {
  response: R;
  events: Event[];
}
