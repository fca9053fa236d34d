/**
 * The OpenAPI v3 documents kube-apiserver serves under /openapi/v3: an index naming one document per
 * group-version (and for the /api, /apis and /apis/<group> discovery roots), each document holding the
 * paths of its resources and the component schemas they reach. Documents are built once per schema set
 * and are immutable; each index entry carries a hash of its document's JSON so that clients can cache
 * it by URL, as kubectl does.
 */
import { groupVersions, RESOURCES } from '../resources.js';
import { groupTitle, groupVersionRootPath, META, ref, resourcePaths, type PathItem } from './operations.js';
import { SCHEMA_REF_PREFIX, schemaNameOf, servedSchemas, type Schema, type SchemaSet } from './schemas.js';

export interface OpenApiDocument {
  readonly openapi: '3.0.0';
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Readonly<Record<string, PathItem>>;
  readonly components: { readonly schemas: Readonly<Record<string, Schema>> };
}

/** The body of GET /openapi/v3. */
export interface OpenApiV3Paths {
  readonly paths: Readonly<Record<string, { readonly serverRelativeURL: string }>>;
}

/** One served document: the object, its JSON as served, and the hash the index puts in its URL. */
export interface OpenApiV3Entry {
  readonly document: OpenApiDocument;
  readonly json: string;
  readonly hash: string;
}

const built = new WeakMap<SchemaSet, ReadonlyMap<string, OpenApiV3Entry>>();

/** The index at /openapi/v3: "api/v1", "apis/apps/v1", … → "/openapi/v3/<path>?hash=<hash>". */
export function openApiV3Paths(schemas: SchemaSet = servedSchemas()): OpenApiV3Paths {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [path, entry] of entries(schemas)) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${entry.hash}` };
  return { paths };
}

/** The document of one served group-version ("" and "v1" for the core group), or undefined. */
export function openApiV3Document(group: string, version: string, schemas: SchemaSet = servedSchemas()): OpenApiDocument | undefined {
  return openApiV3Entry(group === '' ? `api/${version}` : `apis/${group}/${version}`, schemas)?.document;
}

/** The entry for an index path as it appears after /openapi/v3/ ("api/v1", "apis/apps", "apis"). */
export function openApiV3Entry(path: string, schemas: SchemaSet = servedSchemas()): OpenApiV3Entry | undefined {
  return entries(schemas).get(path.replace(/^\/+|\/+$/g, ''));
}

function entries(schemas: SchemaSet): ReadonlyMap<string, OpenApiV3Entry> {
  let map = built.get(schemas);
  if (map === undefined) {
    map = buildEntries(schemas);
    built.set(schemas, map);
  }
  return map;
}

function buildEntries(schemas: SchemaSet): ReadonlyMap<string, OpenApiV3Entry> {
  const map = new Map<string, OpenApiV3Entry>();
  const add = (path: string, paths: Record<string, PathItem>): void => {
    const document = documentOf(schemas, paths);
    const json = JSON.stringify(document);
    map.set(path, { document, json, hash: documentHash(json) });
  };
  add('api', rootPath('/api/', 'core', 'getCoreAPIVersions', 'get available API versions', 'APIVersions'));
  add('apis', rootPath('/apis/', 'apis', 'getAPIVersions', 'get available API versions', 'APIGroupList'));
  for (const { group, version } of groupVersions()) {
    if (group !== '' && !map.has(`apis/${group}`)) {
      add(`apis/${group}`, rootPath(`/apis/${group}/`, group.split('.')[0] ?? group, `get${groupTitle(group)}APIGroup`, 'get information of a group', 'APIGroup'));
    }
    add(group === '' ? `api/${version}` : `apis/${group}/${version}`, groupVersionPaths(schemas, group, version));
  }
  return map;
}

function groupVersionPaths(schemas: SchemaSet, group: string, version: string): Record<string, PathItem> {
  const paths: Record<string, PathItem> = groupVersionRootPath(group, version);
  for (const type of RESOURCES.filter((candidate) => candidate.group === group && candidate.version === version)) {
    const kindSchema = schemaNameOf(schemas, type);
    const listSchema = schemaNameOf(schemas, { ...type, kind: `${type.kind}List` });
    if (kindSchema === undefined || listSchema === undefined) {
      throw new Error(`openapi schemas: no schema for ${group}/${version} ${type.kind} or its list`);
    }
    Object.assign(paths, resourcePaths(type, kindSchema, listSchema));
  }
  return paths;
}

function rootPath(path: string, tag: string, operationId: string, description: string, kind: string): Record<string, PathItem> {
  const schema = ref(`${META}.${kind}`);
  const content = { 'application/json': { schema }, 'application/yaml': { schema } };
  return {
    [path]: {
      get: {
        tags: [tag],
        description,
        operationId,
        responses: { '200': { description: 'OK', content }, '401': { description: 'Unauthorized' } },
      },
    },
  };
}

function documentOf(schemas: SchemaSet, paths: Record<string, PathItem>): OpenApiDocument {
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths,
    components: { schemas: reachableSchemas(schemas, paths) },
  };
}

/** The component schemas that `root` references, directly or through other schemas, sorted by name. */
export function reachableSchemas(schemas: SchemaSet, root: unknown): Record<string, Schema> {
  const names = new Set<string>();
  const pending = collectReferences(root);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (names.has(name)) continue;
    const schema = schemas.byName.get(name);
    if (schema === undefined) throw new Error(`openapi schemas: dangling reference to ${name}`);
    names.add(name);
    pending.push(...collectReferences(schema));
  }
  const result: Record<string, Schema> = {};
  for (const name of [...names].sort()) result[name] = schemas.byName.get(name) as Schema;
  return result;
}

function collectReferences(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) collectReferences(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') found.push(item.slice(SCHEMA_REF_PREFIX.length));
      else collectReferences(item, found);
    }
  }
  return found;
}

/**
 * A stable hex digest of a document (four FNV-1a lanes with distinct offsets). Upstream uses SHA-512;
 * clients only use the value as part of a cache key, so any digest of the content serves, and this keeps
 * the module free of platform crypto.
 */
export function documentHash(text: string): string {
  const lanes = [0x811c9dc5, 0x050c5d1f, 0x1b873593, 0x6a09e667];
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    for (let lane = 0; lane < lanes.length; lane++) {
      lanes[lane] = Math.imul((lanes[lane] as number) ^ (code + lane), 0x01000193) >>> 0;
    }
  }
  return lanes.map((lane) => lane.toString(16).toUpperCase().padStart(8, '0')).join('');
}
