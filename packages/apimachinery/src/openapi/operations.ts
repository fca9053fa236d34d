/**
 * The OpenAPI v3 path items of one served resource: its collection and item paths (namespaced and, for
 * namespaced kinds, across all namespaces), the legacy /watch/ paths, and the subresources that
 * resources.ts lists. Every operation carries `x-kubernetes-action` and
 * `x-kubernetes-group-version-kind`, which kubectl reads: `explain` finds the kind of a resource from
 * them, and `apply` looks for `fieldValidation` among the parameters of the kind's PATCH operations.
 */
import { apiVersionOf, type ResourceType, type SubresourceName } from '../resources.js';
import {
  ATTACH_PARAMETERS,
  DELETE_PARAMETERS,
  EXEC_PARAMETERS,
  LIST_PARAMETERS,
  LOG_PARAMETERS,
  NAME_PARAMETER,
  NAMESPACE_PARAMETER,
  PATCH_PARAMETERS,
  PORT_FORWARD_PARAMETERS,
  PRETTY_PARAMETER,
  WRITE_PARAMETERS,
  type Parameter,
} from './parameters.js';
import { SCHEMA_REF_PREFIX, type GroupVersionKind, type Schema } from './schemas.js';

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export type Action = 'get' | 'list' | 'watch' | 'watchlist' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';
type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
type Content = Record<string, { readonly schema: Schema }>;

export interface Operation {
  readonly tags: readonly string[];
  readonly description: string;
  readonly operationId: string;
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly content: Content; readonly required: true };
  readonly responses: Record<string, { readonly description: string; readonly content?: Content }>;
  readonly 'x-kubernetes-action'?: Action;
  readonly 'x-kubernetes-group-version-kind'?: GroupVersionKind;
}

export type PathItem = { -readonly [M in Method]?: Operation } & { parameters?: readonly Parameter[] };

const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

export function ref(name: string): Schema {
  return { $ref: `${SCHEMA_REF_PREFIX}${name}` };
}

function content(schema: Schema, types = ['application/json', 'application/yaml']): Content {
  return Object.fromEntries(types.map((type) => [type, { schema }]));
}

/** "Core", "Apps", "Coordination": the group as operation ids spell it. */
export function groupTitle(group: string): string {
  const first = group === '' ? 'core' : (group.split('.')[0] ?? group);
  return first.charAt(0).toUpperCase() + first.slice(1);
}

export function groupTag(group: string, version: string): string {
  return `${group === '' ? 'core' : (group.split('.')[0] ?? group)}_${version}`;
}

/** The URL prefix of a group-version: "/api/v1" or "/apis/apps/v1". */
export function groupVersionPrefix(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** What one resource's operations share: names, schemas and the kind they act on. */
interface Subject {
  readonly type: ResourceType;
  readonly kindSchema: string;
  readonly listSchema: string;
  readonly gvk: GroupVersionKind;
  /** "CoreV1NamespacedPod": the part of the operation id after the verb. */
  readonly idSuffix: string;
}

function operation(subject: Subject, action: Action, verb: string, description: string, rest: Partial<Operation>): Operation {
  return {
    tags: [groupTag(subject.type.group, subject.type.version)],
    description,
    operationId: `${verb}${subject.idSuffix}`,
    ...rest,
    responses: { ...rest.responses, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': rest['x-kubernetes-group-version-kind'] ?? subject.gvk,
  };
}

function ok(schema: Schema, code = '200'): Operation['responses'] {
  return { [code]: { description: code === '200' ? 'OK' : code === '201' ? 'Created' : 'Accepted', content: content(schema) } };
}

function collectionItem(subject: Subject, namespaced: boolean): PathItem {
  const kind = subject.type.kind;
  const kindRef = ref(subject.kindSchema);
  return {
    get: operation(subject, 'list', 'list', `list or watch objects of kind ${kind}`, {
      parameters: LIST_PARAMETERS,
      responses: ok(ref(subject.listSchema)),
    }),
    post: operation(subject, 'post', 'create', `create ${article(kind)}`, {
      parameters: WRITE_PARAMETERS,
      requestBody: { content: content(kindRef, ['*/*']), required: true },
      responses: { ...ok(kindRef), ...ok(kindRef, '201'), ...ok(kindRef, '202') },
    }),
    delete: operation(subject, 'deletecollection', 'deleteCollection', `delete collection of ${kind}`, {
      parameters: [...LIST_PARAMETERS, ...DELETE_PARAMETERS],
      requestBody: { content: content(ref(`${META}.DeleteOptions`), ['*/*']), required: true },
      responses: ok(ref(`${META}.Status`)),
    }),
    parameters: namespaced ? [NAMESPACE_PARAMETER, PRETTY_PARAMETER] : [PRETTY_PARAMETER],
  };
}

function objectItem(subject: Subject, namespaced: boolean): PathItem {
  const kind = subject.type.kind;
  const kindRef = ref(subject.kindSchema);
  return {
    get: operation(subject, 'get', 'read', `read the specified ${kind}`, { responses: ok(kindRef) }),
    put: operation(subject, 'put', 'replace', `replace the specified ${kind}`, {
      parameters: WRITE_PARAMETERS,
      requestBody: { content: content(kindRef, ['*/*']), required: true },
      responses: { ...ok(kindRef), ...ok(kindRef, '201') },
    }),
    patch: patchOperation(subject, kindRef, `partially update the specified ${kind}`),
    delete: operation(subject, 'delete', 'delete', `delete ${article(kind)}`, {
      parameters: DELETE_PARAMETERS,
      requestBody: { content: content(ref(`${META}.DeleteOptions`), ['*/*']), required: true },
      responses: { ...ok(kindRef), ...ok(kindRef, '202') },
    }),
    parameters: itemParameters(namespaced),
  };
}

function patchOperation(subject: Subject, schema: Schema, description: string, gvk?: GroupVersionKind): Operation {
  return operation(subject, 'patch', 'patch', description, {
    parameters: PATCH_PARAMETERS,
    requestBody: { content: content(ref(`${META}.Patch`), PATCH_TYPES), required: true },
    responses: { ...ok(schema), ...ok(schema, '201') },
    ...(gvk === undefined ? {} : { 'x-kubernetes-group-version-kind': gvk }),
  });
}

function watchItem(subject: Subject, action: 'watch' | 'watchlist', parameters: readonly Parameter[]): PathItem {
  const what = action === 'watch' ? `changes to an object of kind ${subject.type.kind}` : `individual changes to a list of ${subject.type.kind}`;
  const get = operation(subject, action, 'watch', `watch ${what}. deprecated: use the 'watch' parameter with a list operation instead.`, {
    parameters: LIST_PARAMETERS,
    responses: { '200': { description: 'OK', content: content(ref(`${META}.WatchEvent`), ['application/json', 'application/json;stream=watch']) } },
  });
  return { get: action === 'watchlist' ? { ...get, operationId: `${get.operationId}List` } : get, parameters };
}

function itemParameters(namespaced: boolean): readonly Parameter[] {
  return namespaced ? [NAME_PARAMETER, NAMESPACE_PARAMETER, PRETTY_PARAMETER] : [NAME_PARAMETER, PRETTY_PARAMETER];
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

/** The path items of one resource, keyed by path. */
export function resourcePaths(type: ResourceType, kindSchema: string, listSchema: string): Record<string, PathItem> {
  const prefix = groupVersionPrefix(type.group, type.version);
  const [group, version] = [type.group, type.version];
  const scope = type.namespaced ? 'Namespaced' : '';
  const subject = (suffix: string): Subject => ({
    type,
    kindSchema,
    listSchema,
    gvk: { group, version, kind: type.kind },
    idSuffix: `${groupTitle(group)}${capitalize(version)}${suffix}`,
  });
  const own = subject(`${scope}${type.kind}`);
  const base = type.namespaced ? `${prefix}/namespaces/{namespace}/${type.resource}` : `${prefix}/${type.resource}`;
  const watchBase = type.namespaced ? `${prefix}/watch/namespaces/{namespace}/${type.resource}` : `${prefix}/watch/${type.resource}`;
  const paths: Record<string, PathItem> = {
    [base]: collectionItem(own, type.namespaced),
    [`${base}/{name}`]: objectItem(own, type.namespaced),
    [watchBase]: watchItem(own, 'watchlist', type.namespaced ? [NAMESPACE_PARAMETER, PRETTY_PARAMETER] : [PRETTY_PARAMETER]),
    [`${watchBase}/{name}`]: watchItem(own, 'watch', itemParameters(type.namespaced)),
  };
  if (type.namespaced) {
    const all = subject(`${type.kind}ForAllNamespaces`);
    const list = collectionItem(all, false).get;
    if (list !== undefined) paths[`${prefix}/${type.resource}`] = { get: list, parameters: [PRETTY_PARAMETER] };
    paths[`${prefix}/watch/${type.resource}`] = watchItem(all, 'watchlist', [PRETTY_PARAMETER]);
  }
  for (const name of type.subresources) {
    const item = subresourceItem(subject(`${scope}${type.kind}${capitalize(name)}`), name);
    paths[`${base}/{name}/${name}`] = { ...item, parameters: itemParameters(type.namespaced) };
  }
  return paths;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const SCALE = 'io.k8s.api.autoscaling.v1.Scale';
const BINDING = 'io.k8s.api.core.v1.Binding';
const EVICTION = 'io.k8s.api.policy.v1.Eviction';

function subresourceItem(subject: Subject, name: SubresourceName): PathItem {
  const kind = subject.type.kind;
  switch (name) {
    case 'status':
      return readReplacePatch(subject, ref(subject.kindSchema), `status of the specified ${kind}`);
    case 'scale':
      return readReplacePatch(subject, ref(SCALE), `scale of the specified ${kind}`, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    case 'finalize': {
      const put = readReplacePatch(subject, ref(subject.kindSchema), `finalize of the specified ${kind}`).put;
      return put === undefined ? {} : { put };
    }
    case 'binding':
      return {
        post: operation(subject, 'post', 'create', `create binding of a ${kind}`, {
          parameters: WRITE_PARAMETERS,
          requestBody: { content: content(ref(BINDING), ['*/*']), required: true },
          responses: { ...ok(ref(BINDING)), ...ok(ref(BINDING), '201'), ...ok(ref(BINDING), '202') },
          'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind: 'Binding' },
        }),
      };
    case 'eviction':
      return {
        post: operation(subject, 'post', 'create', `create eviction of ${article(kind)}`, {
          parameters: WRITE_PARAMETERS,
          requestBody: { content: content(ref(EVICTION), ['*/*']), required: true },
          responses: { ...ok(ref(EVICTION)), ...ok(ref(EVICTION), '201'), ...ok(ref(EVICTION), '202') },
          'x-kubernetes-group-version-kind': { group: 'policy', version: 'v1', kind: 'Eviction' },
        }),
      };
    case 'log':
      return {
        get: operation(subject, 'get', 'read', `read log of the specified ${kind}`, {
          parameters: LOG_PARAMETERS,
          responses: { '200': { description: 'OK', content: content({ type: 'string' }, ['text/plain', 'application/json', 'application/yaml']) } },
        }),
      };
    case 'exec':
      return connectItem(subject, name, 'PodExecOptions', EXEC_PARAMETERS);
    case 'attach':
      return connectItem(subject, name, 'PodAttachOptions', ATTACH_PARAMETERS);
    case 'portforward':
      return connectItem(subject, name, 'PodPortForwardOptions', PORT_FORWARD_PARAMETERS);
  }
}

/** exec, attach, portforward: GET and POST that upgrade to a stream (kube's "connect" action). */
function connectItem(subject: Subject, name: SubresourceName, kind: string, parameters: readonly Parameter[]): PathItem {
  const { group, version } = subject.type;
  const scope = subject.type.namespaced ? 'Namespaced' : '';
  const connect = (method: 'Get' | 'Post'): Operation => ({
    ...operation(subject, 'connect', 'connect', `connect ${method.toUpperCase()} requests to ${name} of ${subject.type.kind}`, {
      parameters,
      responses: { '200': { description: 'OK', content: content({ type: 'string' }, ['*/*']) } },
      'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind },
    }),
    operationId: `connect${groupTitle(group)}${capitalize(version)}${method}${scope}${subject.type.kind}${capitalize(name)}`,
  });
  return { get: connect('Get'), post: connect('Post') };
}

function readReplacePatch(subject: Subject, schema: Schema, what: string, gvk?: GroupVersionKind): PathItem {
  const extra = gvk === undefined ? {} : { 'x-kubernetes-group-version-kind': gvk };
  return {
    get: operation(subject, 'get', 'read', `read ${what}`, { responses: ok(schema), ...extra }),
    put: operation(subject, 'put', 'replace', `replace ${what}`, {
      parameters: WRITE_PARAMETERS,
      requestBody: { content: content(schema, ['*/*']), required: true },
      responses: { ...ok(schema), ...ok(schema, '201') },
      ...extra,
    }),
    patch: patchOperation(subject, schema, `partially update ${what}`, gvk),
  };
}

/** The group-version root ("/api/v1/"): its APIResourceList. */
export function groupVersionRootPath(group: string, version: string): Record<string, PathItem> {
  return {
    [`${groupVersionPrefix(group, version)}/`]: {
      get: {
        tags: [groupTag(group, version)],
        description: `get available resources of ${apiVersionOf({ group, version })}`,
        operationId: `get${groupTitle(group)}${capitalize(version)}APIResources`,
        responses: { '200': { description: 'OK', content: content(ref(`${META}.APIResourceList`)) }, '401': { description: 'Unauthorized' } },
      },
    },
  };
}
