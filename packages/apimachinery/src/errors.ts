import type { ResourceType } from './resources.js';
import { qualifiedResource } from './resources.js';

/** kube-apiserver's `Status` object (meta/v1), as every error response carries it. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

/** An error the API answers with a Status: thrown anywhere below a handler, rendered by it. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiError';
  }

  get code(): number {
    return this.status.code;
  }

  get reason(): string {
    return this.status.reason;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  });
}

type Named = Pick<ResourceType, 'group' | 'resource'>;

function resourceDetails(type: Named, name: string): StatusDetails {
  return { name, ...(type.group === '' ? {} : { group: type.group }), kind: type.resource };
}

/**
 * One problem with one field, as k8s.io/apimachinery's field.Error: its `type` is the cause reason
 * in a Status (FieldValueRequired, ...), and `toString()` reads as kube-apiserver prints it.
 */
export interface FieldError {
  readonly type: FieldErrorType;
  /** The field path: "metadata.name", "spec.containers[0].image". */
  readonly field: string;
  /** The offending value, for Invalid, NotSupported, Duplicate. */
  readonly value?: unknown;
  readonly detail?: string;
  /** NotSupported: the values that are. */
  readonly supported?: readonly string[];
  /** How Go prints `value` where kube shows it in Go syntax (map[string]string{...}); used instead when set. */
  readonly goValue?: string;
}

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound';

export const fieldErrors = {
  required: (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    supported,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, value: unknown, max: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    value,
    detail: `may not be more than ${max} bytes`,
  }),
  notFound: (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, value }),
};

/** How Go's %#v-ish formatting in field.Error shows a value: strings quoted, the rest as JSON. */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** The part after "field: " — what a Status cause's message holds. */
export function fieldErrorBody(error: FieldError): string {
  const detail = error.detail ?? '';
  switch (error.type) {
    case 'FieldValueRequired':
      return detail === '' ? 'Required value' : `Required value: ${detail}`;
    case 'FieldValueInvalid':
      return `Invalid value: ${error.goValue ?? formatValue(error.value)}${detail === '' ? '' : `: ${detail}`}`;
    case 'FieldValueNotSupported':
      return `Unsupported value: ${formatValue(error.value)}: supported values: ${(error.supported ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${error.goValue ?? formatValue(error.value)}`;
    case 'FieldValueForbidden':
      return detail === '' ? 'Forbidden' : `Forbidden: ${detail}`;
    case 'FieldValueTooLong':
      return `Too long: ${detail}`;
    case 'FieldValueTooMany':
      return `Too many: ${detail}`;
    case 'FieldValueNotFound':
      return `Not found: ${formatValue(error.value)}`;
  }
}

export function formatFieldError(error: FieldError): string {
  return `${error.field}: ${fieldErrorBody(error)}`;
}

export const apiErrors = {
  notFound: (type: Named, name: string): ApiError =>
    failure(404, 'NotFound', `${qualifiedResource(type)} "${name}" not found`, resourceDetails(type, name)),
  alreadyExists: (type: Named, name: string): ApiError =>
    failure(409, 'AlreadyExists', `${qualifiedResource(type)} "${name}" already exists`, resourceDetails(type, name)),
  conflict: (type: Named, name: string, why: string): ApiError =>
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": ${why}`, resourceDetails(type, name)),
  /** The optimistic-concurrency conflict: an update carried a stale resourceVersion. */
  staleResourceVersion: (type: Named, name: string): ApiError =>
    apiErrors.conflict(type, name, 'the object has been modified; please apply your changes to the latest version and try again'),
  invalid: (type: Pick<ResourceType, 'group' | 'kind'>, name: string, errors: readonly FieldError[]): ApiError => {
    const texts = errors.map(formatFieldError);
    const summary = texts.length === 1 ? (texts[0] as string) : `[${texts.join(', ')}]`;
    // The qualified kind, as schema.GroupKind prints it: "Deployment.apps", "Pod".
    const kind = type.group === '' ? type.kind : `${type.kind}.${type.group}`;
    return failure(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
      name,
      ...(type.group === '' ? {} : { group: type.group }),
      kind: type.kind,
      causes: errors.map((error) => ({ reason: error.type, message: fieldErrorBody(error), field: error.field })),
    });
  },
  badRequest: (message: string): ApiError => failure(400, 'BadRequest', message),
  forbidden: (type: Named, name: string, why: string, causes?: readonly { reason: string; message: string; field: string }[]): ApiError =>
    failure(403, 'Forbidden', `${qualifiedResource(type)} "${name}" is forbidden: ${why}`, {
      ...resourceDetails(type, name),
      ...(causes === undefined ? {} : { causes: [...causes] }),
    }),
  methodNotSupported: (type: Named, action: string): ApiError =>
    failure(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualifiedResource(type)}"`, {
      ...(type.group === '' ? {} : { group: type.group }),
      kind: type.resource,
    }),
  /** A watch or list from a resourceVersion older than the store keeps (410, "Expired"). */
  expired: (message: string): ApiError => failure(410, 'Expired', message),
  gone: (message: string): ApiError => failure(410, 'Gone', message),
  notAcceptable: (message: string): ApiError => failure(406, 'NotAcceptable', message),
  unsupportedMediaType: (contentType: string): ApiError =>
    failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${contentType})`),
  tooLarge: (): ApiError => failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'),
  notFoundPath: (path: string): ApiError => failure(404, 'NotFound', `the server could not find the requested resource (${path})`),
  internal: (message: string): ApiError => failure(500, 'InternalError', `Internal error occurred: ${message}`),
  timeout: (message: string): ApiError => failure(504, 'Timeout', message),
  serviceUnavailable: (message: string): ApiError => failure(503, 'ServiceUnavailable', message),
  /** 429: the request may succeed later (a disruption budget's refusal carries its cause). */
  tooManyRequests: (message: string, retryAfterSeconds: number, causes?: readonly { reason: string; message: string }[]): ApiError =>
    failure(429, 'TooManyRequests', message, {
      ...(causes === undefined ? {} : { causes: [...causes] }),
      ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
    }),
};

/**
 * A success Status as kube-apiserver writes it: Go's `omitempty` leaves out the empty message and
 * reason, and a code or details the handler did not set.
 */
export interface SuccessStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success';
  details?: StatusDetails;
  code?: number;
}

/**
 * What a delete answers when the object is gone at once (the store's finalizeDelete): the details
 * name the object, with the resource as `kind`; no code, as the body of upstream's 200 has none.
 */
export function deletedStatus(type: Named, name: string, uid?: string): SuccessStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...resourceDetails(type, name), ...(uid === undefined ? {} : { uid }) },
  };
}

/**
 * What a create answers when its storage returns a bare success (pods/binding, pods/eviction):
 * upstream's create handler sets the code to its 201.
 */
export function createdStatus(): SuccessStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
