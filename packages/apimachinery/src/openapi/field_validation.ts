/**
 * Unknown-field detection for `fieldValidation=Strict|Warn`, from the same schemas the OpenAPI documents
 * publish. Paths are written the way kube-apiserver's strict JSON decoder writes them: fields joined by
 * ".", list items as "[i]", map entries as ".key", no leading dot ("spec.containers[0].foo"). The
 * decoder stops collecting after 100 problems; so do we.
 */
import type { ResourceType } from '../resources.js';
import { resolveSchema, schemaNameOf, servedSchemas, type Schema, type SchemaSet } from './schemas.js';

export const UNKNOWN_FIELDS_MAX = 100;

/**
 * The paths of the fields in `object` that no schema of `type`'s kind declares, in document order.
 * Objects whose schema lists no properties and no value schema (RawExtension, FieldsV1) hold arbitrary
 * JSON and are not walked. Throws if the kind has no generated schema.
 */
export function unknownFields(type: Pick<ResourceType, 'group' | 'version' | 'kind'>, object: unknown, schemas: SchemaSet = servedSchemas()): string[] {
  const name = schemaNameOf(schemas, type);
  const root = name === undefined ? undefined : schemas.byName.get(name);
  if (root === undefined) throw new Error(`openapi schemas: no schema for ${type.group}/${type.version} ${type.kind}`);
  const found: string[] = [];
  walk(schemas, root, object, '', found);
  return found;
}

/** kube-apiserver's message for the unknown fields of one request body. */
export function strictDecodingMessage(paths: readonly string[]): string {
  return `strict decoding error: ${paths.map((path) => `unknown field ${JSON.stringify(path)}`).join(', ')}`;
}

/** The per-field warning kube-apiserver sends with `fieldValidation=Warn`. */
export function unknownFieldWarning(path: string): string {
  return `unknown field ${JSON.stringify(path)}`;
}

function walk(schemas: SchemaSet, schema: Schema, value: unknown, path: string, found: string[]): void {
  if (found.length >= UNKNOWN_FIELDS_MAX || value === null || typeof value !== 'object') return;
  const resolved = resolveSchema(schemas, schema);
  if (resolved['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    if (resolved.items === undefined) return;
    value.forEach((item, index) => walk(schemas, resolved.items as Schema, item, `${path}[${index}]`, found));
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (resolved.properties !== undefined) {
    walkProperties(schemas, resolved.properties, entries, path, found);
  } else if (typeof resolved.additionalProperties === 'object') {
    const valueSchema = resolved.additionalProperties;
    for (const [key, item] of entries) walk(schemas, valueSchema, item, join(path, key), found);
  }
}

function walkProperties(
  schemas: SchemaSet,
  properties: Readonly<Record<string, Schema>>,
  entries: readonly [string, unknown][],
  path: string,
  found: string[],
): void {
  for (const [key, item] of entries) {
    if (found.length >= UNKNOWN_FIELDS_MAX) return;
    const property = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (property === undefined) found.push(join(path, key));
    else walk(schemas, property, item, join(path, key), found);
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
