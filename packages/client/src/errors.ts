import * as grpc from '@grpc/grpc-js';
import { ApiError, apiErrors, type Status } from '@k8ts/apimachinery';
import { API_STATUS_METADATA_KEY } from '@k8ts/proto';

/**
 * A failed call as the ApiError the API server answered with (reason, code and details as REST
 * gives them), or, when no server answered, 503 ServiceUnavailable / 504 Timeout / 500.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const status = statusFrom(error);
  if (status !== undefined) return new ApiError(status);
  const { code, details } = error as Partial<grpc.ServiceError>;
  const message = details ?? (error instanceof Error ? error.message : String(error));
  if (code === grpc.status.UNAVAILABLE) return apiErrors.serviceUnavailable(`no API server answered: ${message}`);
  if (code === grpc.status.DEADLINE_EXCEEDED) return apiErrors.timeout(`the call timed out: ${message}`);
  return apiErrors.internal(message);
}

/** A call that reached no API server (UNAVAILABLE with no Status): another address may take it. */
export function isTransportFailure(error: unknown): boolean {
  return (error as Partial<grpc.ServiceError>).code === grpc.status.UNAVAILABLE && statusFrom(error) === undefined;
}

function statusFrom(error: unknown): Status | undefined {
  const metadata = (error as Partial<grpc.ServiceError>).metadata;
  const raw = metadata instanceof grpc.Metadata ? metadata.get(API_STATUS_METADATA_KEY)[0] : undefined;
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8')) as Status;
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string | undefined {
  return error instanceof ApiError ? error.reason : undefined;
}

// client-go's apierrors.IsNotFound and friends.
export const isNotFound = (error: unknown): boolean => reasonOf(error) === 'NotFound';
export const isAlreadyExists = (error: unknown): boolean => reasonOf(error) === 'AlreadyExists';
export const isConflict = (error: unknown): boolean => reasonOf(error) === 'Conflict';
/** 410: the resourceVersion is older than the server keeps; list again. */
export const isExpired = (error: unknown): boolean => reasonOf(error) === 'Expired' || reasonOf(error) === 'Gone';

/**
 * The call's answer, or undefined when the object is not there (NotFound): a GET of what may be
 * gone, a DELETE of what someone else may have deleted. Every other failure rejects.
 */
export async function ignoreNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
