import { apiErrors, findResource, type ResourceType, type SubresourceName } from '@k8ts/apimachinery';
import type { ApiDeleteRequest, ApiResourceRef, ApiWriteOptions } from '@k8ts/proto';
import type { DeleteOptions, WriteOptions } from '../resource_service.js';

/** A request's coordinates resolved as REST resolves a path: unknown resources are 404 NotFound. */
export interface Target {
  readonly type: ResourceType;
  /** undefined for cluster-scoped resources and all-namespace lists and watches. */
  readonly namespace: string | undefined;
  readonly name: string;
}

export function resolveRef(ref: ApiResourceRef | null, subresource?: SubresourceName): Target {
  const group = ref?.group ?? '';
  const version = ref?.version ?? '';
  const resource = ref?.resource ?? '';
  const type = findResource(group, version, resource);
  const path = `${group === '' ? '/api' : `/apis/${group}`}/${version}/${resource}`;
  if (type === undefined) throw apiErrors.notFoundPath(path);
  if (subresource !== undefined && !type.subresources.includes(subresource)) throw apiErrors.notFoundPath(`${path}/${subresource}`);
  const namespace = type.namespaced && ref?.namespace ? ref.namespace : undefined;
  return { type, namespace, name: ref?.name ?? '' };
}

/** A target that must name one object. */
export function resolveObject(ref: ApiResourceRef | null, subresource?: SubresourceName): Target {
  const target = resolveRef(ref, subresource);
  if (target.name === '') throw apiErrors.badRequest('resource name may not be empty');
  if (target.type.namespaced && target.namespace === undefined) throw apiErrors.badRequest('a namespace is required for a namespaced resource');
  return target;
}

/** A JSON body; 400 BadRequest as REST answers one that does not parse. */
export function decodeJson(bytes: Buffer, what = 'object'): unknown {
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw apiErrors.badRequest(`the ${what} provided is empty`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw apiErrors.badRequest(`the ${what} provided is unrecognized or could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function writeOptionsOf(options: ApiWriteOptions | null): WriteOptions {
  return {
    dryRun: options?.dry_run ?? false,
    ...(options?.field_manager ? { fieldManager: options.field_manager } : {}),
    ...(options?.force ? { force: true } : {}),
  };
}

const POLICIES = new Set(['Orphan', 'Background', 'Foreground']);

export function deleteOptionsOf(request: ApiDeleteRequest): DeleteOptions {
  const policy = request.propagation_policy;
  if (policy !== '' && !POLICIES.has(policy)) {
    throw apiErrors.badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  const uid = request.precondition_uid;
  const resourceVersion = request.precondition_resource_version;
  return {
    dryRun: request.dry_run,
    ...(request.has_grace_period ? { gracePeriodSeconds: Number(request.grace_period_seconds) } : {}),
    ...(policy !== '' ? { propagationPolicy: policy as NonNullable<DeleteOptions['propagationPolicy']> } : {}),
    ...(uid || resourceVersion ? { preconditions: { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) } } : {}),
  };
}
