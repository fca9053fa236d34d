import * as grpc from '@grpc/grpc-js';
import type { Status } from '@k8ts/apimachinery';
import { API_STATUS_METADATA_KEY, type GrpcStatus } from '@k8ts/proto';
import { statusOf } from '../rest/http_io.js';

/**
 * A refused call as a gRPC error: a code that follows the Status (so generic gRPC tooling reads it
 * right) and the Status itself in the trailing metadata (so our client rebuilds the exact ApiError).
 */
export function toServiceError(error: unknown): GrpcStatus {
  const status = statusOf(error);
  const metadata = new grpc.Metadata();
  metadata.set(API_STATUS_METADATA_KEY, Buffer.from(JSON.stringify(status)));
  return { code: grpcCodeOf(status), details: status.message, metadata };
}

export function grpcCodeOf(status: Pick<Status, 'code' | 'reason'>): grpc.status {
  switch (status.code) {
    case 400:
    case 415:
    case 422:
      return grpc.status.INVALID_ARGUMENT;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 405:
      return grpc.status.UNIMPLEMENTED;
    case 409:
      return status.reason === 'AlreadyExists' ? grpc.status.ALREADY_EXISTS : grpc.status.ABORTED;
    case 410:
      return grpc.status.OUT_OF_RANGE;
    case 413:
    case 429:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 503:
      return grpc.status.UNAVAILABLE;
    case 504:
      return grpc.status.DEADLINE_EXCEEDED;
    default:
      return grpc.status.INTERNAL;
  }
}
