import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, type LoadOptions } from './load.js';
import { findProtoRoot } from './paths.js';

export interface ApiServiceApi {
  /** `new Api(address, credentials)`; `Api.service` is what a server registers. */
  readonly Api: grpc.ServiceClientConstructor;
  readonly packageDefinition: protoLoader.PackageDefinition;
}

/**
 * Trailing metadata key of a refused call: the kube Status as JSON bytes, so a client rebuilds the
 * ApiError (reason, code, details) REST would have answered with.
 */
export const API_STATUS_METADATA_KEY = 'k8ts-status-bin';

/** The components' API (proto/k8ts/apiserver.proto). */
export function loadApiService(options: LoadOptions = {}): ApiServiceApi {
  const root = options.protoRoot ?? findProtoRoot();
  const packageDefinition = protoLoader.loadSync('k8ts/apiserver.proto', { ...PROTO_LOADER_OPTIONS, includeDirs: [root] });
  const loaded = grpc.loadPackageDefinition(packageDefinition) as { k8ts?: { api?: { Api?: unknown } } };
  const service = loaded.k8ts?.api?.Api;
  if (typeof service !== 'function') throw new Error('@k8ts/proto: service k8ts.api.Api missing');
  return { Api: service as grpc.ServiceClientConstructor, packageDefinition };
}

// The messages as decoded with PROTO_LOADER_OPTIONS (int64 as decimal strings; senders may pass
// numbers). Field names as in the .proto.

export interface ApiResourceRef {
  group: string;
  version: string;
  resource: string;
  namespace: string;
  name: string;
}

export interface ApiWriteOptions {
  dry_run: boolean;
  field_manager: string;
  force: boolean;
}

export interface ApiGetRequest {
  ref: ApiResourceRef | null;
}

export interface ApiObjectResponse {
  object: Buffer;
}

export interface ApiListRequest {
  ref: ApiResourceRef | null;
  label_selector: string;
  field_selector: string;
  limit: string | number;
  continue: string;
}

export interface ApiListResponse {
  items: Buffer[];
  resource_version: string;
  continue: string;
  remaining_item_count: string | number;
}

export interface ApiWatchRequest {
  ref: ApiResourceRef | null;
  label_selector: string;
  field_selector: string;
  resource_version: string;
  allow_bookmarks: boolean;
  timeout_seconds: string | number;
}

export type ApiWatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ApiWatchEvent {
  type: string;
  object: Buffer;
}

export interface ApiCreateRequest {
  ref: ApiResourceRef | null;
  object: Buffer;
  options: ApiWriteOptions | null;
}

export type ApiUpdateRequest = ApiCreateRequest;

export interface ApiPatchRequest {
  ref: ApiResourceRef | null;
  patch_type: string;
  patch: Buffer;
  options: ApiWriteOptions | null;
  status: boolean;
}

export interface ApiDeleteRequest {
  ref: ApiResourceRef | null;
  dry_run: boolean;
  has_grace_period: boolean;
  grace_period_seconds: string | number;
  propagation_policy: string;
  precondition_uid: string;
  precondition_resource_version: string;
}

export interface ApiDeleteCollectionRequest {
  delete: ApiDeleteRequest | null;
  label_selector: string;
  field_selector: string;
}

export interface ApiDeleteResponse {
  deleted: boolean;
  object: Buffer;
}

export interface ApiBindRequest {
  namespace: string;
  name: string;
  node_name: string;
}
