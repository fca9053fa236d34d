import { apiErrors, apiVersionOf, createdStatus } from '@k8ts/apimachinery';
import {
  loadApiService,
  type ApiBindRequest,
  type ApiCreateRequest,
  type ApiDeleteCollectionRequest,
  type ApiDeleteRequest,
  type ApiDeleteResponse,
  type ApiGetRequest,
  type ApiListRequest,
  type ApiListResponse,
  type ApiObjectResponse,
  type ApiPatchRequest,
  type ApiUpdateRequest,
  type GrpcServer,
  type ServerStreamCall,
  type UnaryHandler,
} from '@k8ts/proto';
import type { ApiServer } from '../api_server.js';
import type { ResourceService } from '../resource_service.js';
import { selectorFilter, type PatchType } from '../rules.js';
import { decodeJson, deleteOptionsOf, encodeJson, resolveObject, resolveRef, writeOptionsOf } from './requests.js';
import { toServiceError } from './status.js';
import { serveWatch } from './watch.js';

export interface ApiServiceOptions {
  /** How often a watch that allows bookmarks gets one (REST's default: 60 s). */
  readonly bookmarkIntervalMs?: number;
}

const PATCH_TYPES = new Set<string>(['json', 'merge', 'strategic', 'apply']);
const PODS_REF = { group: '', version: 'v1', resource: 'pods' };

/**
 * Serves proto/k8ts/apiserver.proto's Api on `server` from one ApiServer replica: every verb goes
 * through the same ResourceService and watch caches as REST, so both APIs behave the same.
 */
export function registerApiService(server: GrpcServer, api: ApiServer, options: ApiServiceOptions = {}): void {
  const { Api } = loadApiService();
  const service = api.service;
  const watchOptions = { caches: api.caches, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000 };
  server.addService(Api.service, {
    Get: unary((request: ApiGetRequest) => get(service, request)),
    List: unary((request: ApiListRequest) => list(service, request)),
    Watch: (call: ServerStreamCall) => void serveWatch(call, watchOptions),
    Create: unary((request: ApiCreateRequest) => create(service, request)),
    Update: unary((request: ApiUpdateRequest) => update(service, request, undefined)),
    UpdateStatus: unary((request: ApiUpdateRequest) => update(service, request, 'status')),
    Finalize: unary((request: ApiUpdateRequest) => update(service, request, 'finalize')),
    Patch: unary((request: ApiPatchRequest) => patch(service, request)),
    Delete: unary((request: ApiDeleteRequest) => remove(service, request)),
    DeleteCollection: unary((request: ApiDeleteCollectionRequest) => removeCollection(service, request)),
    Bind: unary((request: ApiBindRequest) => bind(service, request)),
  });
}

/** A unary handler from an async function; a thrown error becomes its Status as a gRPC error. */
function unary<Request, Response>(handle: (request: Request) => Promise<Response>): UnaryHandler {
  return (request) =>
    handle(request as Request).catch((error: unknown) => {
      throw toServiceError(error);
    });
}

async function get(service: ResourceService, request: ApiGetRequest): Promise<ApiObjectResponse> {
  const { type, namespace, name } = resolveObject(request.ref);
  return { object: encodeJson(await service.get(type, namespace, name)) };
}

async function list(service: ResourceService, request: ApiListRequest): Promise<ApiListResponse> {
  const { type, namespace } = resolveRef(request.ref);
  const filter = selectorFilter(type, request.label_selector || undefined, request.field_selector || undefined);
  const limit = Number(request.limit);
  const result = await service.list(type, namespace, {
    ...(limit > 0 ? { limit } : {}),
    ...(request.continue ? { continueToken: request.continue } : {}),
    ...(request.label_selector || request.field_selector ? { filter } : {}),
  });
  return {
    items: result.items.map(encodeJson),
    resource_version: String(result.revision),
    continue: result.continueToken ?? '',
    remaining_item_count: result.remainingItemCount ?? 0,
  };
}

async function create(service: ResourceService, request: ApiCreateRequest): Promise<ApiObjectResponse> {
  const { type, namespace } = resolveRef(request.ref);
  const created = await service.create(type, namespace, decodeJson(request.object), writeOptionsOf(request.options));
  return { object: encodeJson(created) };
}

async function update(service: ResourceService, request: ApiUpdateRequest, subresource: 'status' | 'finalize' | undefined): Promise<ApiObjectResponse> {
  const { type, namespace, name } = resolveObject(request.ref, subresource);
  const updated = await service.update(type, namespace, name, decodeJson(request.object), subresource, writeOptionsOf(request.options));
  return { object: encodeJson(updated) };
}

async function patch(service: ResourceService, request: ApiPatchRequest): Promise<ApiObjectResponse> {
  const subresource = request.status ? 'status' : undefined;
  const { type, namespace, name } = resolveObject(request.ref, subresource);
  if (!PATCH_TYPES.has(request.patch_type)) throw apiErrors.badRequest(`unsupported patch type "${request.patch_type}": json, merge, strategic or apply`);
  const patched = await service.patch(type, namespace, name, request.patch_type as PatchType, decodeJson(request.patch, 'patch'), subresource, writeOptionsOf(request.options));
  return { object: encodeJson(patched) };
}

async function remove(service: ResourceService, request: ApiDeleteRequest): Promise<ApiDeleteResponse> {
  const { type, namespace, name } = resolveObject(request.ref);
  const result = await service.delete(type, namespace, name, deleteOptionsOf(request));
  const object = { apiVersion: apiVersionOf(type), kind: type.kind, ...result.object };
  return { deleted: result.deleted, object: encodeJson(object) };
}

async function removeCollection(service: ResourceService, request: ApiDeleteCollectionRequest): Promise<ApiListResponse> {
  const options = request.delete ?? ({} as ApiDeleteRequest);
  const { type, namespace } = resolveRef(options.ref);
  const filter = selectorFilter(type, request.label_selector || undefined, request.field_selector || undefined);
  const deleted = await service.deleteCollection(type, namespace, filter, deleteOptionsOf(options));
  return { items: deleted.map((object) => encodeJson({ apiVersion: apiVersionOf(type), kind: type.kind, ...object })), resource_version: '', continue: '', remaining_item_count: 0 };
}

/** pods/binding answers a Status, not the pod, as kube-apiserver's BindingREST (and the REST handler) does. */
async function bind(service: ResourceService, request: ApiBindRequest): Promise<ApiObjectResponse> {
  resolveObject({ ...PODS_REF, namespace: request.namespace, name: request.name }, 'binding');
  if (!request.node_name) throw apiErrors.invalid({ group: '', kind: 'Binding' }, request.name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
  await service.bind(request.namespace, request.name, request.node_name);
  return { object: encodeJson(createdStatus()) };
}
