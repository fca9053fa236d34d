import * as grpc from '@grpc/grpc-js';
import { GrpcStatusError, isMalformedRequest, type GrpcStatus, type UnaryHandler } from '@k8ts/proto';
import {
  EtcdError,
  type Compare,
  type DeleteRangeRequest,
  type Event,
  type KeyValue,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type ResponseOp,
  type SortOrder,
  type SortTarget,
  type TxnRequest,
  type TxnResponse,
} from '@k8ts/mvcc';
import { ServerError } from './errors.js';
import type { ResponseHeader } from './server.js';

/**
 * Conversions between the etcd v3 messages as proto-loader hands them over (snake_case fields,
 * int64 as decimal strings, bytes as Buffers, oneofs named by a virtual field) and packages/mvcc's
 * types (camelCase, numbers, Uint8Array, lease ids as decimal strings).
 */
type Wire = Record<string, unknown>;

const bytes = (value: unknown): Uint8Array => (value instanceof Uint8Array ? value : new Uint8Array());
const num = (value: unknown): number => int64FromWire(value);

/**
 * An int64 field (a decimal string) as a number mvcc accepts: beyond ±2^53 it is clamped, which
 * keeps every comparison etcd makes with it (a revision, TTL or limit that large is refused, or
 * means "no limit", either way). Unclamped, Number() gives a float mvcc throws on while applying,
 * and an entry that throws while applying stops the member (found by the store fuzzer).
 */
export function int64FromWire(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  const parsed = Number(value);
  if (Number.isNaN(parsed)) return 0;
  return Math.min(Math.max(Math.trunc(parsed), Number.MIN_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
}
const bool = (value: unknown): boolean => value === true;
const leaseId = (value: unknown): string => (value === undefined || value === null || value === '' ? '0' : BigInt(String(value)).toString());
const child = (value: unknown): Wire => (typeof value === 'object' && value !== null ? (value as Wire) : {});

export function rangeFromWire(wire: Wire): RangeRequest {
  return {
    key: bytes(wire['key']),
    rangeEnd: bytes(wire['range_end']),
    limit: num(wire['limit']),
    revision: num(wire['revision']),
    sortOrder: (wire['sort_order'] as SortOrder | undefined) ?? 'NONE',
    sortTarget: (wire['sort_target'] as SortTarget | undefined) ?? 'KEY',
    serializable: bool(wire['serializable']),
    keysOnly: bool(wire['keys_only']),
    countOnly: bool(wire['count_only']),
    minModRevision: num(wire['min_mod_revision']),
    maxModRevision: num(wire['max_mod_revision']),
    minCreateRevision: num(wire['min_create_revision']),
    maxCreateRevision: num(wire['max_create_revision']),
  };
}

export function putFromWire(wire: Wire): PutRequest {
  return {
    key: bytes(wire['key']),
    value: bytes(wire['value']),
    lease: leaseId(wire['lease']),
    prevKv: bool(wire['prev_kv']),
    ignoreValue: bool(wire['ignore_value']),
    ignoreLease: bool(wire['ignore_lease']),
  };
}

export function deleteRangeFromWire(wire: Wire): DeleteRangeRequest {
  return { key: bytes(wire['key']), rangeEnd: bytes(wire['range_end']), prevKv: bool(wire['prev_kv']) };
}

export function txnFromWire(wire: Wire): TxnRequest {
  const ops = (list: unknown): RequestOp[] => (Array.isArray(list) ? list.map((op) => requestOpFromWire(child(op))) : []);
  return {
    compare: Array.isArray(wire['compare']) ? wire['compare'].map((compare) => compareFromWire(child(compare))) : [],
    success: ops(wire['success']),
    failure: ops(wire['failure']),
  };
}

function requestOpFromWire(wire: Wire): RequestOp {
  switch (wire['request']) {
    case 'request_range':
      return { requestRange: rangeFromWire(child(wire['request_range'])) };
    case 'request_put':
      return { requestPut: putFromWire(child(wire['request_put'])) };
    case 'request_delete_range':
      return { requestDeleteRange: deleteRangeFromWire(child(wire['request_delete_range'])) };
    case 'request_txn':
      return { requestTxn: txnFromWire(child(wire['request_txn'])) };
    default:
      return {};
  }
}

function compareFromWire(wire: Wire): Compare {
  return {
    result: (wire['result'] as Compare['result'] | undefined) ?? 'EQUAL',
    target: (wire['target'] as Compare['target'] | undefined) ?? 'VERSION',
    key: bytes(wire['key']),
    rangeEnd: bytes(wire['range_end']),
    version: num(wire['version']),
    createRevision: num(wire['create_revision']),
    modRevision: num(wire['mod_revision']),
    value: bytes(wire['value']),
    lease: leaseId(wire['lease']),
  };
}

export function kvToWire(kv: KeyValue): Wire {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease,
  };
}

export function eventToWire(event: Event): Wire {
  return { type: event.type, kv: kvToWire(event.kv), ...(event.prevKv ? { prev_kv: kvToWire(event.prevKv) } : {}) };
}

/**
 * The member's header goes on the outer response only: etcd 3.4 gives the range, put and delete
 * responses nested in a Txn a header holding just their revision (`etcdctl txn -w json` shows it).
 */
export function txnResponseToWire(response: TxnResponse, header: Partial<ResponseHeader>): Wire {
  return { header, succeeded: response.succeeded, responses: response.responses.map(responseOpToWire) };
}

function responseOpToWire(op: ResponseOp): Wire {
  if (op.responseRange) {
    const r = op.responseRange;
    return { response_range: { header: { revision: String(r.revision) }, kvs: r.kvs.map(kvToWire), more: r.more, count: r.count } };
  }
  if (op.responsePut) {
    const r = op.responsePut;
    return { response_put: { header: { revision: String(r.revision) }, ...(r.prevKv ? { prev_kv: kvToWire(r.prevKv) } : {}) } };
  }
  if (op.responseDeleteRange) {
    const r = op.responseDeleteRange;
    return { response_delete_range: { header: { revision: String(r.revision) }, deleted: r.deleted, prev_kvs: r.prevKvs.map(kvToWire) } };
  }
  // A nested Txn's own header stays empty (etcd's newTxnResp).
  if (op.responseTxn) return { response_txn: txnResponseToWire(op.responseTxn, {}) };
  return {};
}

/** An error as a gRPC status etcd's clients recognise. */
export function toStatus(error: unknown): GrpcStatus {
  if (error instanceof EtcdError) return { code: error.grpcCode, details: error.message };
  if (error instanceof ServerError) return { code: error.code, details: error.message };
  return { code: grpc.status.UNKNOWN, details: error instanceof Error ? error.message : String(error) };
}

/**
 * A unary method from a promise-returning handler, its errors mapped to etcd's statuses. A request
 * etcd would not unmarshal is refused with etcd's status before the handler runs.
 */
export function unary<Req, Res>(handler: (request: Req) => Promise<Res>): UnaryHandler {
  return async (request: unknown) => {
    if (isMalformedRequest(request)) throw new GrpcStatusError(request);
    try {
      return await handler(request as Req);
    } catch (error) {
      throw new GrpcStatusError(toStatus(error));
    }
  };
}
