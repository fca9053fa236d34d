/**
 * A request body read as kube-apiserver reads it: JSON decoded into the kind's Go struct. Go's
 * decoder refuses a value of the wrong JSON type for a field ("json: cannot unmarshal number into Go
 * struct field ServiceSpec.spec.ports of type []v1.ServicePort"), takes `null` as "leave the field at
 * its zero value", and (without strict field validation) ignores fields the struct does not have.
 * The same here, from the schemas the OpenAPI documents publish: `decodeAsTyped` mutates the object
 * in place (nulls and, when asked, unknown fields removed) or throws a TypedDecodeError.
 *
 * The same walk names the unknown fields, as kube's strict decoder does for fieldValidation
 * (Strict refuses them, Warn reports them): paths as `unknownFields` writes them
 * ("spec.containers[0].foo"), in document order, at most UNKNOWN_FIELDS_MAX. They are named over the
 * whole body even when a value of the wrong type stops the decode (the error carries them), since
 * kube answers a Strict request's unknown fields before its type errors.
 *
 * Go's type names are written from the schema names ("io.k8s.api.core.v1.Container" → "v1.Container",
 * integer formats as int32/int64); a named string type (v1.Protocol) prints as "string" here.
 */
import type { ResourceType } from '../resources.js';
import { UNKNOWN_FIELDS_MAX } from './field_validation.js';
import { resolveSchema, schemaNameOf, servedSchemas, SCHEMA_REF_PREFIX, type Schema, type SchemaSet } from './schemas.js';

export class TypedDecodeError extends Error {
  override readonly name = 'TypedDecodeError';

  constructor(
    message: string,
    /** The unknown fields of the whole body, as a successful decode would have returned them. */
    readonly unknownFields: readonly string[] = [],
  ) {
    super(message);
  }
}

export interface TypedDecodeOptions {
  /** Remove the fields no schema declares (kube-apiserver drops them unless fieldValidation=Strict). */
  readonly dropUnknownFields?: boolean;
  readonly schemas?: SchemaSet;
}

export interface TypedDecodeResult {
  /** Paths of the fields no schema declares (dropped or not), in document order. */
  readonly unknownFields: readonly string[];
}

export function decodeAsTyped(type: Pick<ResourceType, 'group' | 'version' | 'kind'>, object: unknown, options: TypedDecodeOptions = {}): TypedDecodeResult {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return { unknownFields: [] }; // identity checks answer that
  const schemas = options.schemas ?? servedSchemas();
  const name = schemaNameOf(schemas, type);
  const root = name === undefined ? undefined : schemas.byName.get(name);
  if (root === undefined) return { unknownFields: [] };
  const decoder = new Decoder(schemas, options.dropUnknownFields === true);
  decoder.object(root, object as Record<string, unknown>, type.kind, { goPath: '', fieldPath: '' });
  if (decoder.firstError !== undefined) throw new TypedDecodeError(decoder.firstError, decoder.unknownFields);
  return { unknownFields: decoder.unknownFields };
}

/**
 * Where a value is, two ways: Go's error path (struct fields only: "spec.containers.image") and the
 * strict decoder's field path (with list indices and map keys: "spec.containers[0].image").
 */
interface Place {
  readonly goPath: string;
  readonly fieldPath: string;
}

class Decoder {
  readonly unknownFields: string[] = [];
  /** Go's message for the first value of the wrong type; the walk goes on to name the unknown fields. */
  firstError: string | undefined;

  constructor(
    private readonly schemas: SchemaSet,
    private readonly dropUnknown: boolean,
  ) {}

  /** A struct (properties), a map (additionalProperties), or free-form JSON (neither: left alone). */
  object(schema: Schema, value: Record<string, unknown>, struct: string, place: Place): void {
    const resolved = resolveSchema(this.schemas, schema);
    if (resolved['x-kubernetes-preserve-unknown-fields'] === true) return;
    if (resolved.properties !== undefined) {
      const properties = resolved.properties;
      const structName = goStructName(schema) ?? struct;
      for (const key of Object.keys(value)) {
        const property = Object.hasOwn(properties, key) ? properties[key] : undefined;
        const at = { goPath: join(place.goPath, key), fieldPath: join(place.fieldPath, key) };
        if (property === undefined) {
          if (this.unknownFields.length < UNKNOWN_FIELDS_MAX) this.unknownFields.push(at.fieldPath);
          if (this.dropUnknown && this.changing) delete value[key];
          continue;
        }
        if (value[key] === null) {
          if (this.changing) delete value[key]; // Go: null leaves the field at its zero value
        } else this.set(value, key, this.value(property, value[key], structName, at));
      }
    } else if (typeof resolved.additionalProperties === 'object') {
      const valueSchema = resolved.additionalProperties;
      for (const key of Object.keys(value)) this.set(value, key, this.value(valueSchema, value[key], struct, { goPath: place.goPath, fieldPath: join(place.fieldPath, key) }));
    }
  }

  /** `value` as the field's type takes it; Go's error recorded (and the value left) when its JSON type does not fit. */
  value(schema: Schema, value: unknown, struct: string, place: Place): unknown {
    const resolved = resolveSchema(this.schemas, schema);
    if (value === null) return zeroValue(resolved);
    const accepted = jsonTypesOf(resolved);
    const kind = jsonKind(value);
    const asSchemaType = kind === 'integer' ? 'number' : kind === 'bool' ? 'boolean' : kind;
    if (accepted !== undefined && !accepted.has(asSchemaType)) return this.refuse(goUnmarshalKind(value), value, schema, struct, place.goPath);
    if (resolved.type === 'integer') {
      const [min, max] = resolved.format === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) return this.refuse(goUnmarshalKind(value, true), value, schema, struct, place.goPath);
    }
    if (kind === 'object' && (resolved.type === 'object' || resolved.properties !== undefined)) {
      this.object(schema, value as Record<string, unknown>, struct, place);
    } else if (kind === 'array' && resolved.items !== undefined) {
      const items = resolved.items;
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) this.set(list, i, this.value(items, list[i], struct, { goPath: place.goPath, fieldPath: `${place.fieldPath}[${i}]` }));
    }
    return value;
  }

  /**
   * Whether the walk still types and prunes: after the first error it only names unknown fields,
   * leaving the rest of the body as it was when Go's decoder stopped (a patch's 422 quotes it).
   */
  private get changing(): boolean {
    return this.firstError === undefined;
  }

  private set(container: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
    if (this.changing) (container as Record<string | number, unknown>)[key] = value;
  }

  private refuse(kind: string, value: unknown, schema: Schema, struct: string, path: string): unknown {
    this.firstError ??= `json: cannot unmarshal ${kind} into Go struct field ${struct}.${path} of type ${this.goType(schema)}`;
    return value;
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
 * A JSON value's kind by Go's decoder's names: string, bool, array, object (null too), or number,
 * told apart here as 'integer' and 'number' (a fraction), as schemas tell them apart. Go prints both
 * as "number": goUnmarshalKind is the name its errors use.
 */
export function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value; // string
}

/**
 * The kind Go's encoding/json names in "json: cannot unmarshal <kind> into …": a number is "number",
 * and into an integer field "number <its text>" ("number 1.5", "number 1e+300").
 */
export function goUnmarshalKind(value: unknown, intoInteger = false): string {
  if (typeof value === 'number') return intoInteger ? `number ${String(value)}` : 'number';
  return jsonKind(value);
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
