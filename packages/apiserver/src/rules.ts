import {
  apiErrors,
  apiVersionOf,
  applyDefaults,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  matchesFields,
  matchesLabels,
  openApiV3Document,
  openApiV3Paths,
  parseFieldSelector,
  parseLabelSelector,
  recordUpdate,
  serverSideApply,
  toTable as tableOf,
  validateObject,
  type FieldError,
  type ResourceType,
} from '@k8ts/apimachinery';
import type { KubeObject } from './object_store.js';

/**
 * The apimachinery rules as the API server applies them to stored objects: one place that adapts
 * the pure functions of @k8ts/apimachinery to the server's object shape.
 */

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const PATCH_MEDIA_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

export function patchTypeOf(mediaType: string): PatchType {
  const type = PATCH_MEDIA_TYPES[mediaType];
  if (type === undefined) throw apiErrors.unsupportedMediaType(mediaType);
  return type;
}

export function defaultObject(type: ResourceType, object: KubeObject, operation: 'create' | 'update'): void {
  applyDefaults(type, object, operation);
}

export function validate(type: ResourceType, object: KubeObject, old: KubeObject | undefined): FieldError[] {
  return validateObject(type, object, old);
}

/** A list/watch filter from the labelSelector and fieldSelector query parameters (400 when malformed). */
export function selectorFilter(type: ResourceType, labelSelector: string | undefined, fieldSelector: string | undefined): (object: KubeObject) => boolean {
  const labels = labelSelector ? parseLabelSelector(labelSelector) : [];
  const fields = fieldSelector ? parseFieldSelector(fieldSelector, type) : [];
  if (labels.length === 0 && fields.length === 0) return () => true;
  return (object) => matchesLabels(labels, object.metadata?.labels) && matchesFields(fields, object);
}

export function toTable(type: ResourceType, objects: readonly KubeObject[], options: Parameters<typeof tableOf>[2]): unknown {
  return tableOf(type, objects, options);
}

export function openApiIndex(): unknown {
  return openApiV3Paths();
}

/** `/openapi/v3/api/v1` and `/openapi/v3/apis/<group>/<version>`. */
export function openApiDocument(path: string): unknown {
  const parts = path.split('?')[0]?.split('/').filter((part) => part !== '') ?? [];
  if (parts[0] === 'api' && parts.length === 2) return openApiV3Document('', parts[1] as string);
  if (parts[0] === 'apis' && parts.length === 3) return openApiV3Document(parts[1] as string, parts[2] as string);
  throw apiErrors.notFoundPath(`/openapi/v3/${path}`);
}

export interface PatchContext {
  readonly manager: string;
  readonly force: boolean;
  readonly now: string;
}

/** The object after a patch of `patchType`; `current` is undefined only for an apply that creates. */
export function applyPatch(type: ResourceType, current: KubeObject | undefined, patchType: PatchType, body: unknown, context: PatchContext): KubeObject {
  if (patchType === 'apply') {
    if (typeof body !== 'object' || body === null) throw apiErrors.badRequest('error decoding YAML: the apply configuration must be an object');
    return serverSideApply(current, body as object, context.manager, context.force, apiVersionOf(type), context.now).object as KubeObject;
  }
  const document = current as KubeObject;
  if (patchType === 'json') return applyJsonPatch(document, body) as KubeObject;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw apiErrors.badRequest('the patch must be a JSON object');
  if (patchType === 'merge') return applyMergePatch(document, body) as KubeObject;
  return applyStrategicMergePatch(document, body, type.kind) as KubeObject;
}

/**
 * managedFields for a non-apply write: the fields it changed now belong to `manager`. When they cannot
 * be worked out (a list item without its merge key), the write goes on with managedFields cleared, as
 * kube's FieldManager.UpdateNoErrors does; validation then answers for the object.
 */
export function recordManager(type: ResourceType, before: KubeObject | undefined, after: KubeObject, manager: string, now: string): void {
  let recorded: KubeObject;
  try {
    recorded = recordUpdate(before, after, manager, apiVersionOf(type), now) as KubeObject;
  } catch {
    const { managedFields: _dropped, ...metadata } = after.metadata ?? {};
    after.metadata = metadata;
    return;
  }
  after.metadata = { ...after.metadata, ...(recorded.metadata?.managedFields ? { managedFields: recorded.metadata.managedFields } : {}) };
}
