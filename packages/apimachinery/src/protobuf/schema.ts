/**
 * The message descriptions behind the Kubernetes protobuf decoder, written as one compact line per field:
 *
 *   jsonName=number:type[flag]
 *
 * - `type` is a scalar (string, int32, int64, bool, bytes, double), a special type with its own JSON form
 *   (Time, MicroTime, Duration, Quantity, IntOrString, RawExtension, FieldsV1), or a message of the same
 *   package (`PodSpec`) or another one (`meta.ObjectMeta`). `T[]` is a repeated field; `map<T>` a map
 *   from string keys to T (entries are messages with key=1, value=2).
 * - The flag says when the field appears in the JSON, as Go's encoding/json decides it for the Go type:
 *   `*` a pointer, present only when the field is on the wire; `?` omitempty, left out when zero or empty
 *   (scalars, lists, maps); no flag, always present (the zero value, `null` for an absent list or map).
 * - An empty jsonName (`=2:VolumeSource`) is an embedded Go struct: its fields are merged into the parent.
 *
 * Field numbers, names and types are those of k8s.io/api and k8s.io/apimachinery as of Kubernetes 1.32.
 */
import { apiMessageTables } from './messages_apis.js';
import { coreMessages } from './messages_core.js';
import { metaMessages } from './messages_meta.js';
import { podMessages } from './messages_pod.js';
import { volumeMessages } from './messages_volume.js';
import type { MessageTable } from './message_table.js';

export type { MessageTable } from './message_table.js';


export const SCALAR_TYPES = ['string', 'int32', 'int64', 'bool', 'bytes', 'double'] as const;
export const SPECIAL_TYPES = ['Time', 'MicroTime', 'Duration', 'Quantity', 'IntOrString', 'RawExtension', 'FieldsV1'] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];
export type SpecialType = (typeof SPECIAL_TYPES)[number];

export interface FieldSpec {
  readonly number: number;
  /** '' for an embedded struct whose fields are merged into the parent. */
  readonly jsonName: string;
  readonly kind: 'scalar' | 'special' | 'message';
  /** The scalar or special type, or the qualified message name (`core.PodSpec`). */
  readonly type: string;
  readonly cardinality: 'single' | 'repeated' | 'map';
  readonly presence: 'always' | 'omitempty' | 'pointer';
}

export interface MessageSpec {
  /** Qualified name: `core.ConfigMap`. */
  readonly name: string;
  /** In Go struct order, the order the JSON encoder writes them. */
  readonly fields: readonly FieldSpec[];
  readonly byNumber: ReadonlyMap<number, FieldSpec>;
}

const FIELD_PATTERN = /^(\w*)=(\d+):(?:map<([\w.]+)>|([\w.]+)(\[\])?)([*?]?)$/;

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

function parseField(packageName: string, messageName: string, token: string): FieldSpec {
  const match = FIELD_PATTERN.exec(token);
  if (match === null) throw new Error(`protobuf schema ${packageName}.${messageName}: bad field ${JSON.stringify(token)}`);
  const [, jsonName = '', number = '', mapValue, elementType, repeatedMark, flag] = match;
  const typeName = mapValue ?? elementType ?? '';
  const kind = isOneOf(SCALAR_TYPES, typeName) ? 'scalar' : isOneOf(SPECIAL_TYPES, typeName) ? 'special' : 'message';
  return {
    number: Number(number),
    jsonName,
    kind,
    type: kind !== 'message' || typeName.includes('.') ? typeName : `${packageName}.${typeName}`,
    cardinality: mapValue !== undefined ? 'map' : repeatedMark !== undefined ? 'repeated' : 'single',
    presence: flag === '*' ? 'pointer' : flag === '?' ? 'omitempty' : 'always',
  };
}

function checkField(message: string, field: FieldSpec, known: ReadonlyMap<string, MessageSpec>): void {
  const where = `protobuf schema ${message}.${field.jsonName || '(inline)'}`;
  if (field.kind === 'message' && !known.has(field.type)) throw new Error(`${where}: unknown message ${field.type}`);
  if (field.presence === 'pointer' && field.cardinality !== 'single') throw new Error(`${where}: a list or map cannot be a pointer`);
  if (field.presence === 'omitempty' && field.cardinality === 'single' && field.kind !== 'scalar') {
    throw new Error(`${where}: omitempty has no effect on a struct; drop the flag`);
  }
  if (field.jsonName === '' && (field.kind !== 'message' || field.cardinality !== 'single' || field.presence !== 'always')) {
    throw new Error(`${where}: only a plain message field can be embedded`);
  }
}

/** Parses and cross-checks tables keyed by package name; throws on any inconsistency. */
export function parseMessageTables(packages: Readonly<Record<string, MessageTable>>): ReadonlyMap<string, MessageSpec> {
  const messages = new Map<string, MessageSpec>();
  for (const [packageName, table] of Object.entries(packages)) {
    for (const [messageName, text] of Object.entries(table)) {
      const name = `${packageName}.${messageName}`;
      if (messages.has(name)) throw new Error(`protobuf schema: ${name} defined twice`);
      const fields = text.split(/\s+/).filter((token) => token !== '').map((token) => parseField(packageName, messageName, token));
      const byNumber = new Map<number, FieldSpec>();
      const jsonNames = new Set<string>();
      for (const field of fields) {
        if (byNumber.has(field.number)) throw new Error(`protobuf schema ${name}: field number ${field.number} used twice`);
        if (field.jsonName !== '' && jsonNames.has(field.jsonName)) throw new Error(`protobuf schema ${name}: ${field.jsonName} used twice`);
        byNumber.set(field.number, field);
        jsonNames.add(field.jsonName);
      }
      messages.set(name, { name, fields, byNumber });
    }
  }
  for (const message of messages.values()) for (const field of message.fields) checkField(message.name, field, messages);
  return messages;
}

function mergeTables(...tables: readonly MessageTable[]): MessageTable {
  const merged: Record<string, string> = {};
  for (const table of tables) {
    for (const [name, text] of Object.entries(table)) {
      if (name in merged) throw new Error(`protobuf schema: ${name} defined in two tables`);
      merged[name] = text;
    }
  }
  return merged;
}

let builtIn: ReadonlyMap<string, MessageSpec> | undefined;

/** The messages of the kinds we decode, parsed once. */
export function builtInMessages(): ReadonlyMap<string, MessageSpec> {
  builtIn ??= parseMessageTables({
    meta: metaMessages,
    core: mergeTables(coreMessages, podMessages, volumeMessages),
    ...apiMessageTables,
  });
  return builtIn;
}
