/**
 * A request body read as kube-apiserver reads it: JSON decoded into the kind's Go struct. Go's
 * decoder refuses a value of the wrong JSON type for a field ("json: cannot unmarshal number into Go
 * struct field ServiceSpec.spec.ports of type []v1.ServicePort"), takes `null` as "leave the field at
 * its zero value", and (without strict field validation) ignores fields the struct does not have.
 * The same here, from the schemas the OpenAPI documents publish: `decodeAsTyped` mutates the object
 * in place (nulls and, when asked, unknown fields removed) or throws a TypedDecodeError.
 *
 * Go's type names are written from the schema names ("io.k8s.api.core.v1.Container" → "v1.Container",
 * integer formats as int32/int64); a named string type (v1.Protocol) prints as "string" here.
 */
import type { ResourceType } from '../resources.js';
import { resolveSchema, schemaNameOf, servedSchemas, SCHEMA_REF_PREFIX, type Schema, type SchemaSet } from './schemas.js';

export class TypedDecodeError extends Error {
  override readonly name = 'TypedDecodeError';
}

export interface TypedDecodeOptions {
  /** Remove the fields no schema declares (kube-apiserver drops them unless fieldValidation=Strict). */
  readonly dropUnknownFields?: boolean;
  readonly schemas?: SchemaSet;
}

export function decodeAsTyped(type: Pick<ResourceType, 'group' | 'version' | 'kind'>, object: unknown, options: TypedDecodeOptions = {}): void {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return; // identity checks answer that
  const schemas = options.schemas ?? servedSchemas();
  const name = schemaNameOf(schemas, type);
  const root = name === undefined ? undefined : schemas.byName.get(name);
  if (root === undefined) return;
  new Decoder(schemas, options.dropUnknownFields === true).object(root, object as Record<string, unknown>, type.kind, '');
}

class Decoder {
  constructor(
    private readonly schemas: SchemaSet,
    private readonly dropUnknown: boolean,
  ) {}

  /** A struct (properties), a map (additionalProperties), or free-form JSON (neither: left alone). */
  object(schema: Schema, value: Record<string, unknown>, struct: string, path: string): void {
    const resolved = resolveSchema(this.schemas, schema);
    if (resolved['x-kubernetes-preserve-unknown-fields'] === true) return;
    if (resolved.properties !== undefined) {
      const properties = resolved.properties;
      const structName = goStructName(schema) ?? struct;
      for (const key of Object.keys(value)) {
        const property = Object.hasOwn(properties, key) ? properties[key] : undefined;
        if (property === undefined) {
          if (this.dropUnknown) delete value[key];
          continue;
        }
        if (value[key] === null) delete value[key]; // Go: null leaves the field at its zero value
        else value[key] = this.value(property, value[key], structName, join(path, key));
      }
    } else if (typeof resolved.additionalProperties === 'object') {
      const valueSchema = resolved.additionalProperties;
      for (const key of Object.keys(value)) value[key] = this.value(valueSchema, value[key], struct, path);
    }
  }

  /** `value` as the field's type takes it; throws Go's error when its JSON type does not fit. */
  value(schema: Schema, value: unknown, struct: string, path: string): unknown {
    const resolved = resolveSchema(this.schemas, schema);
    if (value === null) return zeroValue(resolved);
    const accepted = jsonTypesOf(resolved);
    const kind = jsonKind(value);
    const asSchemaType = kind === 'integer' ? 'number' : kind === 'bool' ? 'boolean' : kind;
    if (accepted !== undefined && !accepted.has(asSchemaType)) this.refuse(kind, value, schema, struct, path);
    if (resolved.type === 'integer') {
      const [min, max] = resolved.format === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) this.refuse(`number ${String(value)}`, value, schema, struct, path);
    }
    if (kind === 'object' && (resolved.type === 'object' || resolved.properties !== undefined)) {
      this.object(schema, value as Record<string, unknown>, struct, path);
    } else if (kind === 'array' && resolved.items !== undefined) {
      const items = resolved.items;
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) list[i] = this.value(items, list[i], struct, path);
    }
    return value;
  }

  private refuse(kind: string, _value: unknown, schema: Schema, struct: string, path: string): never {
    throw new TypedDecodeError(`json: cannot unmarshal ${kind === 'integer' ? 'number' : kind} into Go struct field ${struct}.${path} of type ${this.goType(schema)}`);
  }

  private goType(schema: Schema): string {
    const named = goQualifiedName(schema);
    if (named !== undefined) return named;
    const resolved = resolveSchema(this.schemas, schema);
    if (resolved.type === 'array' && resolved.items !== undefined) return `[]${this.goType(resolved.items)}`;
    if (resolved.type === 'object' && typeof resolved.additionalProperties === 'object') return `map[string]${this.goType(resolved.additionalProperties)}`;
    if (resolved.type === 'integer') return resolved.format === 'int32' || resolved.format === 'int64' ? resolved.format : 'int';
    if (resolved.type === 'number') return 'float64';
    if (resolved.type === 'boolean') return 'bool';
    if (resolved.type === 'string') return 'string';
    return 'interface {}';
  }
}

/** JSON types a schema takes; undefined: any (free-form, or no type given). */
function jsonTypesOf(schema: Schema): Set<string> | undefined {
  if (schema.oneOf !== undefined) {
    const types = schema.oneOf.map((option) => option.type).filter((type): type is NonNullable<Schema['type']> => type !== undefined);
    return new Set(types.map((type) => (type === 'integer' ? 'number' : type)));
  }
  if (schema['x-kubernetes-int-or-string'] === true) return new Set(['number', 'string']);
  if (schema.type === undefined) return schema.properties !== undefined ? new Set(['object']) : undefined;
  return new Set([schema.type === 'integer' ? 'number' : schema.type]);
}

/**
 * What Go's decoder calls a JSON value in "json: cannot unmarshal <kind> into …": string, bool,
 * array, object (null too), or number, told apart here as 'integer' and 'number' (a fraction), as
 * schemas tell them apart; Go prints both as "number".
 */
export function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value; // string
}

function zeroValue(schema: Schema): unknown {
  if (schema.type === 'string') return '';
  if (schema.type === 'integer' || schema.type === 'number') return 0;
  if (schema.type === 'boolean') return false;
  if (schema.type === 'array') return [];
  return schema.type === 'object' || schema.properties !== undefined ? {} : null;
}

/** "io.k8s.api.core.v1.Container" → "v1.Container", for a schema that names a type. */
function goQualifiedName(schema: Schema): string | undefined {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined);
  if (ref === undefined) return undefined;
  const parts = ref.slice(SCHEMA_REF_PREFIX.length).split('.');
  return parts.slice(-2).join('.');
}

function goStructName(schema: Schema): string | undefined {
  return goQualifiedName(schema)?.split('.').at(-1);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
