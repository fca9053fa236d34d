/// <reference types="node" />
/**
 * The OpenAPI v3 component schemas of the served API groups, read once from `generated/schemas.json`
 * (written at build time by `scripts/generate-schemas.mjs` from the `kubernetes-types` declarations).
 * This file is the package's one Node-specific edge: everything else in `openapi/` only reads the
 * loaded `SchemaSet`.
 */
import { readFileSync } from 'node:fs';
import type { ResourceType } from '../resources.js';

/** The subset of an OpenAPI v3 schema object that the generated schemas use. */
export interface Schema {
  readonly description?: string;
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly format?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly additionalProperties?: Schema | boolean;
  readonly allOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly $ref?: string;
  readonly 'x-kubernetes-group-version-kind'?: readonly GroupVersionKind[];
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

export interface SchemaSet {
  /** Every component schema by its upstream name ("io.k8s.api.core.v1.Pod"). */
  readonly byName: ReadonlyMap<string, Schema>;
  /** The schema name of each top-level kind, keyed by `gvkKey`. */
  readonly nameByKind: ReadonlyMap<string, string>;
}

export function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

/** Indexes a `{ schemas: { name: schema } }` document (the generated file's shape). */
export function schemaSetFrom(document: { readonly schemas: Readonly<Record<string, Schema>> }): SchemaSet {
  const byName = new Map(Object.entries(document.schemas));
  const nameByKind = new Map<string, string>();
  for (const [name, schema] of byName) {
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) nameByKind.set(gvkKey(gvk), name);
  }
  if (byName.size > 0 && nameByKind.size === 0) throw new Error('openapi schemas: no schema names a group-version-kind');
  return { byName, nameByKind };
}

let loaded: SchemaSet | undefined;

/**
 * The generated schemas, loaded on first use. `src/openapi/` (under vitest) and `dist/openapi/` (after
 * the build) are both two levels below the package root, where `generated/` lives.
 */
export function servedSchemas(): SchemaSet {
  if (loaded !== undefined) return loaded;
  const url = new URL('../../generated/schemas.json', import.meta.url);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`openapi schemas: cannot read ${url.pathname} (run scripts/generate-schemas.mjs first): ${reason}`);
  }
  loaded = schemaSetFrom(JSON.parse(text) as { schemas: Record<string, Schema> });
  return loaded;
}

/** The schema name of a resource's kind ("io.k8s.api.core.v1.Pod"), or undefined if none was generated. */
export function schemaNameOf(schemas: SchemaSet, type: Pick<ResourceType, 'group' | 'version' | 'kind'>): string | undefined {
  return schemas.nameByKind.get(gvkKey(type));
}

/** Follows `$ref` and single-element `allOf` wrappers to the schema that declares the shape. */
export function resolveSchema(schemas: SchemaSet, schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; depth < 16; depth++) {
    if (current.$ref !== undefined) {
      const target = schemas.byName.get(current.$ref.slice(SCHEMA_REF_PREFIX.length));
      if (target === undefined) throw new Error(`openapi schemas: dangling reference ${current.$ref}`);
      current = target;
    } else if (current.allOf?.length === 1 && current.properties === undefined && current.allOf[0] !== undefined) {
      current = current.allOf[0];
    } else {
      return current;
    }
  }
  throw new Error('openapi schemas: reference chain longer than 16');
}
