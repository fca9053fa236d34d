import {
  NUMBER_TEXTS, WRONG_TYPE_TEXTS, chance, continueToken, fieldSelector, flipBits, hostileLabels, hostileName, int64Text, integer,
  isFutureResourceVersion, labelSelector, pick, protobufConfigMap, randomBytes, resourceVersion, toYaml, truncate, type Random,
} from './apiserver_values.js';

/**
 * Raw HTTP requests for kube-apiserver's REST API as k8ts serves it: every verb (get, list, watch,
 * create, update, the four patch types, delete, deletecollection) over core and apps resources and
 * their subresources (status, binding, scale, log, eviction), with hostile but valid values (edge
 * names, labels, selectors, resourceVersions, int64 edges, wrong types, deep nesting, duplicate
 * keys, bodies at the 3 MiB limit) or malformed ones (truncated and bit-flipped JSON, YAML and
 * protobuf, wrong content types, bad escapes and encoded slashes, bad query parameters, unknown
 * groups, versions and resources).
 */
export interface ApiCase {
  readonly method: string;
  /** The request target, sent byte for byte. */
  readonly path: string;
  readonly contentType?: string;
  readonly body?: Buffer;
  /** The operation before any malformation: 'create configmaps', 'patch(merge) pods/status', … */
  readonly operation: string;
  /** 'hostile' (a valid request), or the malformation applied. */
  readonly shape: string;
  /** Whether a success may write. */
  readonly writes: boolean;
  /** A watch: judged on its headers (and first bytes), then closed by the client. */
  readonly watch: boolean;
  /** The collection the case addresses, listed before and after a write that failed. */
  readonly collectionPath: string;
  /** Go's net/http refuses this target before kube-apiserver sees it: its plain-text 400 is right. */
  readonly malformedTarget: boolean;
  /** A resourceVersion past the store's: kube-apiserver may wait and answer 504 "Too large resource version". */
  readonly futureResourceVersion: boolean;
}

/** Where a seed's cases act: its own namespace, and cluster-scoped fixtures named after it. */
export interface FuzzScope {
  readonly namespace: string;
}

type Json = Record<string, unknown>;

interface ResourceSpec {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly subresources: readonly string[];
  readonly object: (name: string, scope: FuzzScope, random: Random) => Json;
}

const containers = [{ name: 'app', image: 'busybox' }];

const RESOURCES: readonly ResourceSpec[] = [
  resource('', 'pods', 'Pod', true, ['status', 'binding', 'log', 'eviction'], (r, scope) => ({ spec: { containers, ...(chance(r, 0.3) ? { nodeName: nodeName(scope) } : {}) } })),
  resource('', 'configmaps', 'ConfigMap', true, [], () => ({ data: { key: 'value' } })),
  resource('', 'secrets', 'Secret', true, [], () => ({ type: 'Opaque', data: { key: Buffer.from('value').toString('base64') } })),
  resource('', 'services', 'Service', true, ['status'], () => ({ spec: { selector: { app: 'fuzz' }, ports: [{ port: 80 }] } })),
  resource('apps', 'deployments', 'Deployment', true, ['status', 'scale'], () => ({
    spec: { replicas: 1, selector: { matchLabels: { app: 'fuzz' } }, template: { metadata: { labels: { app: 'fuzz' } }, spec: { containers } } },
  })),
  resource('', 'namespaces', 'Namespace', false, ['status'], () => ({})),
  resource('', 'nodes', 'Node', false, ['status'], () => ({ spec: { unschedulable: false } })),
  resource('coordination.k8s.io', 'leases', 'Lease', true, [], () => ({ spec: { holderIdentity: 'fuzz', leaseDurationSeconds: 15 } })),
  resource('', 'events', 'Event', true, [], (_r, scope) => ({ involvedObject: { kind: 'Pod', name: 'fixture', namespace: scope.namespace }, reason: 'Fuzz', message: 'm', type: 'Normal' })),
];

function resource(group: string, plural: string, kind: string, namespaced: boolean, subresources: readonly string[], spec: (random: Random, scope: FuzzScope) => Json): ResourceSpec {
  return {
    group,
    version: 'v1',
    resource: plural,
    kind,
    namespaced,
    subresources,
    object: (name, scope, random) => ({ apiVersion: group === '' ? 'v1' : `${group}/v1`, kind, metadata: { name }, ...spec(random, scope) }),
  };
}

const nodeName = (scope: FuzzScope): string => `${scope.namespace}-node`;

/** The existing object a case names (most cases meet one): namespaces and nodes are cluster-wide, so they carry the seed's namespace. */
function fixtureName(spec: ResourceSpec, scope: FuzzScope): string {
  if (spec.resource === 'nodes') return nodeName(scope);
  if (spec.resource === 'namespaces') return `${scope.namespace}-extra`;
  return 'fixture';
}

function collectionPath(spec: ResourceSpec, scope: FuzzScope): string {
  const base = spec.group === '' ? '/api/v1' : `/apis/${spec.group}/${spec.version}`;
  return `${base}${spec.namespaced ? `/namespaces/${scope.namespace}` : ''}/${spec.resource}`;
}

/**
 * The objects a seed starts from, in creation order: its namespace, a second namespace, a node,
 * and one of each namespaced resource named "fixture" (the pod "bound" is on the node, for log
 * and eviction).
 */
export function fixtures(scope: FuzzScope): { collectionPath: string; object: Json }[] {
  const none = (): number => 0.99; // no optional parts
  const namespace = RESOURCES.find((spec) => spec.resource === 'namespaces') as ResourceSpec;
  const made = [{ collectionPath: '/api/v1/namespaces', object: namespace.object(scope.namespace, scope, none) }];
  for (const spec of RESOURCES) made.push({ collectionPath: collectionPath(spec, scope), object: spec.object(fixtureName(spec, scope), scope, none) });
  const pods = RESOURCES.find((spec) => spec.resource === 'pods') as ResourceSpec;
  made.push({ collectionPath: collectionPath(pods, scope), object: { ...pods.object('bound', scope, none), spec: { containers, nodeName: nodeName(scope) } } });
  return made;
}

const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
type PatchType = keyof typeof PATCH_TYPES;

const VERBS = ['list', 'get', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'subresource'] as const;
type Verb = (typeof VERBS)[number];

interface Draft {
  method: string;
  path: string;
  query: string[];
  contentType?: string;
  body?: Buffer;
  operation: string;
  writes: boolean;
  watch: boolean;
  futureResourceVersion: boolean;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export class ApiCaseGenerator {
  constructor(private readonly scope: FuzzScope) {}

  generate(random: Random): ApiCase {
    const spec = pick(random, RESOURCES);
    const verb = pick(random, VERBS);
    const draft = this.draft(random, spec, verb);
    const base = collectionPath(spec, this.scope);
    const malformation = chance(random, 0.4) ? malform(random, draft, spec) : { shape: 'hostile', malformedTarget: false };
    const query = draft.query.length === 0 ? '' : `?${draft.query.join('&')}`;
    return {
      method: draft.method,
      path: `${draft.path}${query}`,
      ...(draft.contentType === undefined ? {} : { contentType: draft.contentType }),
      ...(draft.body === undefined ? {} : { body: draft.body }),
      operation: draft.operation,
      shape: malformation.shape,
      writes: draft.writes,
      watch: draft.watch,
      collectionPath: base,
      malformedTarget: malformation.malformedTarget,
      futureResourceVersion: draft.futureResourceVersion,
    };
  }

  private draft(random: Random, spec: ResourceSpec, verb: Verb): Draft {
    const scope = this.scope;
    const collection = collectionPath(spec, scope);
    const name = hostileName(random, fixtureName(spec, scope));
    const item = `${collection}/${encodeURIComponent(name)}`;
    const draft: Draft = { method: 'GET', path: item, query: [], operation: `${verb} ${spec.resource}`, writes: false, watch: false, futureResourceVersion: false };
    const rv = (): void => {
      const text = resourceVersion(random);
      draft.query.push(`resourceVersion=${encodeURIComponent(text)}`);
      if (isFutureResourceVersion(text)) draft.futureResourceVersion = true;
    };
    const listQuery = (): void => {
      if (chance(random, 0.4)) draft.query.push(`labelSelector=${encodeURIComponent(labelSelector(random))}`);
      if (chance(random, 0.3)) draft.query.push(`fieldSelector=${encodeURIComponent(fieldSelector(random))}`);
      if (chance(random, 0.3)) draft.query.push(`limit=${encodeURIComponent(int64Text(random))}`);
      if (chance(random, 0.2)) draft.query.push(`continue=${encodeURIComponent(continueToken(random))}`);
      if (chance(random, 0.3)) rv();
    };
    const body = (object: Json): void => setBody(random, draft, object);
    switch (verb) {
      case 'list':
        draft.path = chance(random, 0.2) && spec.namespaced ? collection.replace(`/namespaces/${scope.namespace}`, '') : collection;
        listQuery();
        if (chance(random, 0.1)) draft.query.push('includeObject=Object');
        break;
      case 'watch':
        draft.path = collection;
        draft.watch = true;
        draft.query.push(pick(random, ['watch=true', 'watch=1', 'watch=true&allowWatchBookmarks=true']));
        draft.query.push(`timeoutSeconds=${pick(random, ['1', '1', '0', '-1', 'abc', '9223372036854775807', '9223372036854775808'])}`);
        listQuery();
        break;
      case 'get':
        if (chance(random, 0.4)) rv();
        break;
      case 'create':
        draft.method = 'POST';
        draft.path = collection;
        draft.writes = true;
        // A fresh name half the time: the fixture's name would only meet AlreadyExists.
        body(hostileObject(random, spec, spec.object(chance(random, 0.5) ? `new-${integer(random, 1_000_000)}` : name, scope, random), scope));
        writeQuery(random, draft);
        break;
      case 'update':
        draft.method = 'PUT';
        draft.writes = true;
        {
          const object = hostileObject(random, spec, spec.object(name, scope, random), scope);
          if (chance(random, 0.3)) setPath(object, ['metadata', 'resourceVersion'], resourceVersion(random));
          body(object);
        }
        writeQuery(random, draft);
        break;
      case 'patch':
        draft.method = 'PATCH';
        draft.writes = true;
        patch(random, draft, spec, name, scope);
        writeQuery(random, draft);
        break;
      case 'delete':
        draft.method = 'DELETE';
        draft.writes = true;
        deleteOptions(random, draft);
        break;
      case 'deletecollection':
        draft.method = 'DELETE';
        draft.path = collection;
        draft.writes = true;
        listQuery();
        // Cluster-scoped collections are shared by every seed (and hold the cluster's own
        // namespaces): there a deletecollection is held to this seed's label.
        if (!spec.namespaced) draft.query.push(`labelSelector=${encodeURIComponent(`fuzz-scope=${scope.namespace}`)}`);
        deleteOptions(random, draft);
        break;
      case 'subresource':
        subresource(random, draft, spec, name, scope);
        break;
    }
    return draft;
  }
}

function writeQuery(random: Random, draft: Draft): void {
  if (chance(random, 0.2)) draft.query.push(`dryRun=${pick(random, ['All', 'All', 'bogus', ''])}`);
  if (chance(random, 0.2)) draft.query.push(`fieldValidation=${pick(random, ['Strict', 'Warn', 'Ignore', 'bogus'])}`);
  if (chance(random, 0.2)) draft.query.push(`fieldManager=${encodeURIComponent(pick(random, ['fuzz', '', 'm'.repeat(129), 'ü', 'a\tb']))}`);
}

function deleteOptions(random: Random, draft: Draft): void {
  if (chance(random, 0.4)) draft.query.push(`gracePeriodSeconds=${encodeURIComponent(int64Text(random))}`);
  if (chance(random, 0.2)) draft.query.push(`propagationPolicy=${pick(random, ['Foreground', 'Background', 'Orphan', 'bogus', ''])}`);
  if (chance(random, 0.2)) draft.query.push('dryRun=All');
  if (chance(random, 0.4)) {
    const options = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      ...(chance(random, 0.5) ? { gracePeriodSeconds: JSON.parse(pick(random, [...NUMBER_TEXTS, ...WRONG_TYPE_TEXTS])) as unknown } : {}),
      ...(chance(random, 0.3) ? { preconditions: { uid: pick(random, ['x', '', 'ü']), resourceVersion: resourceVersion(random) } } : {}),
      ...(chance(random, 0.3) ? { propagationPolicy: pick(random, ['Foreground', 'bogus', 5]) } : {}),
    };
    draft.contentType = 'application/json';
    draft.body = Buffer.from(JSON.stringify(options));
  }
}

/** The object with hostile values in it: names, labels, int64 edges, wrong types, large annotations. */
function hostileObject(random: Random, spec: ResourceSpec, object: Json, scope: FuzzScope): Json {
  const changed = structuredClone(object);
  const metadata = changed['metadata'] as Json;
  if (chance(random, 0.3)) metadata['labels'] = hostileLabels(random);
  if (chance(random, 0.15)) metadata['annotations'] = { big: 'x'.repeat(pick(random, [1024, 262_144, 262_145, 1_048_576])) };
  if (chance(random, 0.15)) metadata['generateName'] = pick(random, ['gen-', '', 'x'.repeat(300), 'Ü-']);
  if (!spec.namespaced && chance(random, 0.8)) metadata['labels'] = { ...(metadata['labels'] as Json | undefined), 'fuzz-scope': scope.namespace };
  if (chance(random, 0.3)) replaceLeaf(random, changed, JSON.parse(pick(random, NUMBER_TEXTS)) as unknown);
  if (chance(random, 0.3)) replaceLeaf(random, changed, JSON.parse(pick(random, WRONG_TYPE_TEXTS)) as unknown);
  return changed;
}

/** Sets a random leaf (or object) of `object` to `value`. */
function replaceLeaf(random: Random, object: Json, value: unknown): void {
  let node: Json = object;
  for (let depth = 0; depth < 6; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = pick(random, keys);
    const child = node[key];
    if (child === null || typeof child !== 'object' || chance(random, 0.3)) {
      node[key] = value;
      return;
    }
    node = child as Json;
  }
}

function setPath(object: unknown, path: readonly string[], value: unknown): void {
  let node = object as Json;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    // A hostile value (a number, null, a list) may already stand where the path goes on.
    if (child === null || typeof child !== 'object' || Array.isArray(child)) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1] as string] = value;
}

/**
 * The body in one of the accepted encodings (JSON mostly, YAML, protobuf for ConfigMaps), maybe
 * with a text-level hostility JSON.stringify cannot make: duplicate keys, deep nesting, a size at
 * or just over the 3 MiB limit.
 */
function setBody(random: Random, draft: Draft, object: Json): void {
  const encoding = pick(random, ['json', 'json', 'json', 'json', 'yaml', 'protobuf']);
  if (encoding === 'yaml') {
    draft.contentType = 'application/yaml';
    draft.body = Buffer.from(toYaml(object).replace(/^\n/, ''));
    return;
  }
  if (encoding === 'protobuf' && object['kind'] === 'ConfigMap') {
    draft.contentType = 'application/vnd.kubernetes.protobuf';
    // The metadata may be a hostile value of another type; the envelope carries names only.
    const metadata = object['metadata'] as { name?: unknown } | null | undefined;
    draft.body = protobufConfigMap(String(typeof metadata === 'object' ? metadata?.name : metadata), { key: 'value' });
    return;
  }
  draft.contentType = 'application/json';
  draft.body = Buffer.from(hostileJsonText(random, JSON.stringify(object)));
}

function hostileJsonText(random: Random, text: string): string {
  const roll = random();
  if (roll < 0.08) return `{"metadata":{"name":"duplicate"},${text.slice(1)}`; // a duplicate key: the last one wins in kube's decoder too
  if (roll < 0.14) {
    const depth = pick(random, [100, 1000, 10_001, 100_000]);
    return `{"deep":${'['.repeat(depth)}${']'.repeat(depth)},${text.slice(1)}`;
  }
  if (roll < 0.19) {
    const size = MAX_BODY_BYTES + pick(random, [-64, 0, 1, 4096]);
    const padding = size - text.length - '{"pad":"",'.length;
    return `{"pad":"${'p'.repeat(Math.max(0, padding))}",${text.slice(1)}`;
  }
  return text;
}

function patch(random: Random, draft: Draft, spec: ResourceSpec, name: string, scope: FuzzScope): void {
  const type = pick(random, Object.keys(PATCH_TYPES) as PatchType[]);
  draft.operation = `patch(${type}) ${draft.operation.split(' ')[1] ?? ''}`;
  draft.contentType = PATCH_TYPES[type];
  draft.body = Buffer.from(patchBody(random, type, spec, name, scope));
  if (type === 'apply') {
    if (chance(random, 0.8)) draft.query.push(`fieldManager=${pick(random, ['fuzz', 'other'])}`);
    if (chance(random, 0.3)) draft.query.push(`force=${pick(random, ['true', 'false', 'bogus'])}`);
  }
}

function patchBody(random: Random, type: PatchType, spec: ResourceSpec, name: string, scope: FuzzScope): string {
  const value = (): unknown => (chance(random, 0.5) ? JSON.parse(pick(random, [...NUMBER_TEXTS, ...WRONG_TYPE_TEXTS])) : pick(random, ['v', '', 'ü', 'x'.repeat(70)]));
  switch (type) {
    case 'json': {
      const path = pick(random, ['/metadata/labels/a', '/metadata/labels/a~1b', '/metadata/labels', '/metadata/name', '/metadata/uid', '/spec/replicas', '/spec/containers/0/image', '/spec/containers/-', '/data/key', '', '/', '~2', '/a/b/c/d', '/metadata/labels/', '/status/phase']);
      const op = pick(random, ['add', 'replace', 'remove', 'test', 'move', 'copy', 'bogus', '']);
      const ops: Json[] = [{ op, path, value: value(), ...(op === 'move' || op === 'copy' ? { from: pick(random, ['/metadata/name', '/nope', '']) } : {}) }];
      if (chance(random, 0.2)) return JSON.stringify(Array.from({ length: 10_000 }, () => ops[0]));
      return JSON.stringify(chance(random, 0.1) ? ops[0] : ops);
    }
    case 'merge':
    case 'strategic': {
      const body: Json = { metadata: { labels: { a: chance(random, 0.3) ? null : value() } } };
      if (chance(random, 0.4)) setPath(body, pick(random, [['spec', 'replicas'], ['data', 'key'], ['spec', 'containers'], ['metadata'], ['status', 'phase'], ['metadata', 'name']]), value());
      if (type === 'strategic' && chance(random, 0.5)) {
        setPath(body, ['spec', 'containers'], [{ name: 'app', $patch: pick(random, ['delete', 'replace', 'merge', 'bogus']) }]);
        if (chance(random, 0.3)) setPath(body, ['spec', '$setElementOrder/containers'], [{ name: pick(random, ['app', 'none']) }, 5]);
        if (chance(random, 0.3)) setPath(body, ['$patch'], pick(random, ['replace', 'delete', 'bogus']));
        if (chance(random, 0.2)) setPath(body, ['spec', '$retainKeys'], ['containers', 7]);
      }
      return JSON.stringify(chance(random, 0.05) ? [body] : body);
    }
    case 'apply': {
      const object = hostileObject(random, spec, spec.object(name, scope, random), scope);
      return chance(random, 0.2) ? JSON.stringify(object) : toYaml(object).replace(/^\n/, '');
    }
  }
}

function subresource(random: Random, draft: Draft, spec: ResourceSpec, name: string, scope: FuzzScope): void {
  const sub = spec.subresources.length === 0 ? pick(random, ['status', 'scale', 'log', 'nonsense']) : pick(random, spec.subresources);
  const fixture = spec.resource === 'pods' && (sub === 'log' || sub === 'eviction') && chance(random, 0.7) ? 'bound' : name;
  draft.path = `${collectionPath(spec, scope)}/${encodeURIComponent(fixture)}/${sub}`;
  draft.operation = `${sub} ${spec.resource}`;
  const method = pick(random, ['GET', 'PUT', 'PATCH', 'POST', 'DELETE']);
  switch (sub) {
    case 'log':
      draft.method = chance(random, 0.8) ? 'GET' : method;
      for (const key of ['tailLines', 'sinceSeconds', 'limitBytes']) if (chance(random, 0.3)) draft.query.push(`${key}=${encodeURIComponent(int64Text(random))}`);
      if (chance(random, 0.3)) draft.query.push(`container=${encodeURIComponent(pick(random, ['app', 'none', '']))}`);
      if (chance(random, 0.2)) draft.query.push(`sinceTime=${encodeURIComponent(pick(random, ['2020-01-01T00:00:00Z', 'yesterday', '']))}`);
      if (chance(random, 0.2)) draft.query.push('previous=true');
      break;
    case 'binding':
      draft.method = chance(random, 0.8) ? 'POST' : method;
      draft.writes = draft.method !== 'GET';
      setBody(random, draft, { apiVersion: 'v1', kind: 'Binding', metadata: { name: fixture }, target: { kind: 'Node', name: chance(random, 0.5) ? `${scope.namespace}-node` : JSON.parse(pick(random, WRONG_TYPE_TEXTS)) } });
      break;
    case 'eviction':
      draft.method = chance(random, 0.8) ? 'POST' : method;
      draft.writes = draft.method !== 'GET';
      setBody(random, draft, {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: chance(random, 0.8) ? fixture : 'other' },
        ...(chance(random, 0.5) ? { deleteOptions: { gracePeriodSeconds: JSON.parse(pick(random, [...NUMBER_TEXTS, ...WRONG_TYPE_TEXTS])) as unknown } } : {}),
      });
      if (chance(random, 0.2)) draft.query.push('dryRun=All');
      break;
    case 'scale':
      draft.method = method === 'POST' || method === 'DELETE' ? 'PUT' : method;
      draft.writes = draft.method !== 'GET';
      if (draft.method === 'PUT') setBody(random, draft, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: fixture }, spec: { replicas: JSON.parse(pick(random, [...NUMBER_TEXTS, ...WRONG_TYPE_TEXTS])) as unknown } });
      if (draft.method === 'PATCH') patch(random, draft, spec, fixture, scope);
      break;
    default: // status, and subresources the resource does not have
      draft.method = method === 'POST' || method === 'DELETE' ? pick(random, [method, 'PUT']) : method;
      draft.writes = draft.method !== 'GET';
      if (draft.method === 'PUT') setBody(random, draft, hostileObject(random, spec, { ...spec.object(fixture, scope, random), status: { phase: pick(random, ['Running', 'Bogus', '']), replicas: JSON.parse(pick(random, NUMBER_TEXTS)) as unknown } }, scope));
      if (draft.method === 'PATCH') patch(random, draft, spec, fixture, scope);
      if (draft.method === 'POST') setBody(random, draft, spec.object(fixture, scope, random));
      break;
  }
  draft.operation = `${draft.method} ${draft.operation}`;
}

/** Breaks the request in one way; returns how, and whether Go's HTTP server would refuse the target itself. */
function malform(random: Random, draft: Draft, spec: ResourceSpec): { shape: string; malformedTarget: boolean } {
  const kind = pick(random, ['truncated', 'bit-flipped', 'random-bytes', 'content-type', 'bad-escape', 'encoded-slash', 'bad-query', 'unknown-api', 'protobuf']);
  const needsBody = (): Buffer => {
    if (draft.body === undefined) {
      draft.contentType = 'application/json';
      draft.body = Buffer.from(JSON.stringify(spec.object('fixture', { namespace: 'x' }, random)));
    }
    return draft.body;
  };
  switch (kind) {
    case 'truncated':
      draft.body = truncate(random, needsBody());
      return { shape: kind, malformedTarget: false };
    case 'bit-flipped':
      draft.body = flipBits(random, needsBody());
      return { shape: kind, malformedTarget: false };
    case 'random-bytes':
      draft.body = randomBytes(random, 1 + integer(random, 200));
      return { shape: kind, malformedTarget: false };
    case 'content-type':
      draft.contentType = pick(random, ['text/plain', 'application/xml', 'application/json; charset=utf-16', '', 'a/b/c', ';', 'application/json-patch+json', 'application/apply-patch+cbor', 'application/cbor', 'multipart/form-data; boundary=x', 'application/vnd.kubernetes.protobuf;stream=watch']);
      needsBody();
      return { shape: `content-type ${JSON.stringify(draft.contentType)}`, malformedTarget: false };
    case 'bad-escape': {
      // Inside the path, after its leading '/': a target that does not start with '/' is another malformation.
      const at = 1 + integer(random, draft.path.length);
      const escape = pick(random, ['%', '%z', '%zz', '%2', '%%', '%G0']);
      draft.path = `${draft.path.slice(0, at)}${escape}${draft.path.slice(at)}`;
      return { shape: `bad escape ${escape}`, malformedTarget: true };
    }
    case 'encoded-slash': {
      const segments = draft.path.split('/');
      const at = 1 + integer(random, Math.max(1, segments.length - 1));
      segments[at] = `${segments[at] ?? ''}${pick(random, ['%2F', '%2f', '%2Fextra', '%2F..%2F', '%00', '%C0%AF', '%E2%80%AE'])}`;
      draft.path = segments.join('/');
      return { shape: 'encoded slash or byte', malformedTarget: false };
    }
    case 'bad-query': {
      const key = pick(random, ['limit', 'timeoutSeconds', 'gracePeriodSeconds', 'resourceVersion', 'fieldSelector', 'labelSelector', 'continue', 'watch', 'resourceVersionMatch', 'sendInitialEvents', 'dryRun', 'propagationPolicy']);
      const value = pick(random, ['', 'abc', '-1', '%zz', '%', '1%202', '9223372036854775808', '%00', 'a=b', '%E0%A4%A']);
      // A bad escape in the query is no bad request target to Go (url.ParseQuery drops the pair).
      draft.query.push(`${key}=${value}`, ...(chance(random, 0.3) ? [`${key}=1`] : []));
      return { shape: `bad query ${key}=${value}`, malformedTarget: false };
    }
    case 'unknown-api': {
      const prefix = pick(random, ['/apis/nope.example.com/v1', '/api/v2', '/apis/apps/v1beta9', '/apis/apps', '/apis/', '/api', '/apis/coordination.k8s.io/v2', '/x']);
      const rest = draft.path.replace(/^\/apis?\/(?:[^/]+\/)?v1/, '');
      draft.path = pick(random, [`${prefix}${rest}`, draft.path.replace(spec.resource, pick(random, ['podz', 'Pods', 'pods.', '', 'pods/x/y/z/w']))]);
      return { shape: 'unknown group, version or resource', malformedTarget: false };
    }
    case 'protobuf': {
      draft.contentType = 'application/vnd.kubernetes.protobuf';
      const envelope = protobufConfigMap('fixture', { key: 'value' });
      draft.body = pick(random, [truncate(random, envelope), flipBits(random, envelope), Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), randomBytes(random, 40)]), randomBytes(random, 30)]);
      return { shape: 'broken protobuf', malformedTarget: false };
    }
  }
  return { shape: kind, malformedTarget: false };
}
