import type * as protoLoader from '@grpc/proto-loader';

/**
 * A wire-format check that refuses what etcd 3.4's gogo/protobuf generated Unmarshal methods refuse,
 * with their error text. protobufjs (under proto-loader) is lenient: it takes field number 0, wrong
 * wire types on known fields and overlong varints, so a garbled request was decoded and applied.
 * The rules, as gogo generates them:
 * - a tag with wire type 4 (end group) → "proto: <Msg>: wiretype end group for non-group";
 * - a field number <= 0 (int32 of tag >> 3) → "proto: <Msg>: illegal tag N (wire type W)", where W is
 *   the whole tag (a gogo quirk kept for identical text);
 * - a known field with another wire type → "proto: wrong wireType = N for field GoName"
 *   (repeated scalars take 0 or packed 2);
 * - a varint longer than 10 bytes → "proto: integer overflow";
 * - a negative length → "proto: negative length found during unmarshaling";
 * - running out of bytes → "unexpected EOF";
 * - unknown fields are skipped (groups by nesting depth; wire types 6 and 7 → "proto: illegal wireType N");
 * - nested messages are checked against their bounds. Strings are not UTF-8 checked.
 * One pass over the bytes, no allocation unless refusing.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

const EOF = 'unexpected EOF';
const OVERFLOW = 'proto: integer overflow';
const NEGATIVE_LENGTH = 'proto: negative length found during unmarshaling';
/** int64 range: a length that takes an index past it overflows (etcd 3.4 panics there; newer gogo refuses). */
const INT64_LIMIT = 2 ** 63;

export interface FieldRule {
  /** The Go field name gogo's messages use (range_end → RangeEnd). */
  readonly goName: string;
  readonly wireType: number;
  /** Repeated varint scalars also take a packed (length-delimited) run. */
  readonly packable: boolean;
  /** For message fields, the nested message's rule; resolved after all rules exist. */
  message: MessageRule | undefined;
}

export interface MessageRule {
  readonly name: string;
  /** Indexed by field number. */
  readonly fields: readonly (FieldRule | undefined)[];
}

/** Thrown inside the check; caught at its entry point and returned as text. */
class Refusal {
  constructor(readonly text: string) {}
}

/**
 * The error text gogo gives for `bytes` decoded as `rule`'s message, or undefined when it decodes.
 */
export function checkMessage(rule: MessageRule, bytes: Uint8Array): string | undefined {
  try {
    checkRange(rule, bytes, 0, bytes.length);
    return undefined;
  } catch (error) {
    if (error instanceof Refusal) return error.text;
    throw error;
  }
}

// The last varint read by readVarint (module state: no allocation per varint).
let varintValue = 0; // exact below 2^53, which is all a length inside a message can be
let varintLow35 = 0; // bits 0..34 exactly: a tag's wire type and int32(tag >> 3)
let varintBit63 = false; // Go's int sign bit

/**
 * Reads a varint at `at` bounded by `limit` (gogo bounds every varint by the message's end, even
 * inside a packed run); returns the index after it.
 */
function readVarint(bytes: Uint8Array, at: number, limit: number): number {
  let value = 0;
  let low35 = 0;
  let bit63 = false;
  let scale = 1;
  for (let shift = 0; ; shift += 7) {
    if (shift >= 64) throw new Refusal(OVERFLOW);
    if (at >= limit) throw new Refusal(EOF);
    const byte = bytes[at++] as number;
    if (shift === 63) {
      // Go shifts all but the lowest bit of the tenth byte out of the 64-bit word.
      bit63 = (byte & 1) === 1;
    } else {
      value += (byte & 0x7f) * scale;
      if (shift <= 28) low35 = value;
      scale *= 128;
    }
    if (byte < 0x80) break;
  }
  varintValue = value;
  varintLow35 = low35;
  varintBit63 = bit63;
  return at;
}

/** A length-delimited field's end; `at` is just after its length varint (varintValue). */
function lengthEnd(at: number, limit: number): number {
  if (varintBit63) throw new Refusal(NEGATIVE_LENGTH);
  if (at + varintValue >= INT64_LIMIT) throw new Refusal(NEGATIVE_LENGTH);
  const end = at + varintValue;
  if (end > limit) throw new Refusal(EOF);
  return end;
}

function checkRange(rule: MessageRule, bytes: Uint8Array, start: number, limit: number): void {
  let at = start;
  while (at < limit) {
    const tagStart = at;
    at = readVarint(bytes, at, limit);
    const wireType = varintLow35 % 8;
    if (wireType === WIRE_END_GROUP) throw new Refusal(`proto: ${rule.name}: wiretype end group for non-group`);
    // Go: fieldNum := int32(wire >> 3).
    const fieldNumber = Math.floor(varintLow35 / 8) | 0;
    if (fieldNumber <= 0) throw new Refusal(`proto: ${rule.name}: illegal tag ${fieldNumber} (wire type ${wholeVarint(bytes, tagStart)})`);
    const field = rule.fields[fieldNumber];
    if (field === undefined) {
      at = skipField(bytes, tagStart, limit);
      continue;
    }
    if (wireType !== field.wireType && !(field.packable && wireType === WIRE_BYTES)) {
      throw new Refusal(`proto: wrong wireType = ${wireType} for field ${field.goName}`);
    }
    switch (wireType) {
      case WIRE_VARINT:
        at = readVarint(bytes, at, limit);
        break;
      case WIRE_BYTES: {
        at = readVarint(bytes, at, limit);
        const end = lengthEnd(at, limit);
        if (field.message !== undefined) checkRange(field.message, bytes, at, end);
        else if (field.packable) {
          // gogo reads each element's varint bounded by the message, not the run.
          while (at < end) at = readVarint(bytes, at, limit);
          break;
        }
        at = end;
        break;
      }
      case WIRE_FIXED64:
        at += 8;
        if (at > limit) throw new Refusal(EOF);
        break;
      case WIRE_FIXED32:
        at += 4;
        if (at > limit) throw new Refusal(EOF);
        break;
      default:
        // No etcd request field is a group.
        throw new Refusal(`proto: wrong wireType = ${wireType} for field ${field.goName}`);
    }
  }
}

/** Skips the unknown field whose tag starts at `at` (gogo's skipRpc); returns the index after it. */
function skipField(bytes: Uint8Array, at: number, limit: number): number {
  let depth = 0;
  while (at < limit) {
    at = readVarint(bytes, at, limit);
    const wireType = varintLow35 % 8;
    switch (wireType) {
      case WIRE_VARINT:
        at = readVarint(bytes, at, limit);
        break;
      case WIRE_FIXED64:
        at += 8;
        break;
      case WIRE_BYTES:
        at = readVarint(bytes, at, limit);
        if (varintBit63) throw new Refusal(NEGATIVE_LENGTH);
        at += varintValue;
        if (at >= INT64_LIMIT) throw new Refusal(NEGATIVE_LENGTH);
        break;
      case WIRE_START_GROUP:
        depth++;
        break;
      case WIRE_END_GROUP:
        if (depth === 0) throw new Refusal('proto: unexpected end of group');
        depth--;
        break;
      case WIRE_FIXED32:
        at += 4;
        break;
      default:
        throw new Refusal(`proto: illegal wireType ${wireType}`);
    }
    if (depth === 0) {
      if (at > limit) throw new Refusal(EOF);
      return at;
    }
  }
  throw new Refusal(EOF);
}

/** The whole tag varint as Go's uint64 prints it (only for the error text). */
function wholeVarint(bytes: Uint8Array, at: number): string {
  let value = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const byte = bytes[at++] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  return BigInt.asUintN(64, value).toString();
}

/** The Go field name protoc-gen-gogo derives from a .proto field name (CamelCase). */
export function goFieldName(name: string): string {
  return name
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

const WIRE_TYPE_OF: Record<string, number> = {
  TYPE_INT32: WIRE_VARINT,
  TYPE_INT64: WIRE_VARINT,
  TYPE_UINT32: WIRE_VARINT,
  TYPE_UINT64: WIRE_VARINT,
  TYPE_SINT32: WIRE_VARINT,
  TYPE_SINT64: WIRE_VARINT,
  TYPE_BOOL: WIRE_VARINT,
  TYPE_ENUM: WIRE_VARINT,
  TYPE_FIXED64: WIRE_FIXED64,
  TYPE_SFIXED64: WIRE_FIXED64,
  TYPE_DOUBLE: WIRE_FIXED64,
  TYPE_FIXED32: WIRE_FIXED32,
  TYPE_SFIXED32: WIRE_FIXED32,
  TYPE_FLOAT: WIRE_FIXED32,
  TYPE_STRING: WIRE_BYTES,
  TYPE_BYTES: WIRE_BYTES,
  TYPE_MESSAGE: WIRE_BYTES,
  TYPE_GROUP: WIRE_START_GROUP,
};

/**
 * A rule for every message of a proto-loader package definition (its descriptors), by full name
 * ('etcdserverpb.PutRequest').
 */
export function messageRules(definition: protoLoader.PackageDefinition): Map<string, MessageRule> {
  const rules = new Map<string, MessageRule>();
  const pending: { field: FieldRule; scope: string; typeName: string }[] = [];
  for (const [fullName, entry] of Object.entries(definition)) {
    if (!('format' in entry) || entry.format !== 'Protocol Buffer 3 DescriptorProto') continue;
    const descriptor = entry.type as { name: string; field: FieldDescriptor[] };
    const fields: (FieldRule | undefined)[] = [];
    for (const field of descriptor.field) {
      const wireType = WIRE_TYPE_OF[field.type];
      if (wireType === undefined) throw new Error(`@k8ts/proto: ${fullName}.${field.name} has unknown type ${field.type}`);
      const rule: FieldRule = {
        goName: goFieldName(field.name),
        wireType,
        packable: field.label === 'LABEL_REPEATED' && wireType === WIRE_VARINT,
        message: undefined,
      };
      fields[field.number] = rule;
      if (field.type === 'TYPE_MESSAGE') pending.push({ field: rule, scope: fullName, typeName: field.typeName });
    }
    rules.set(fullName, { name: descriptor.name, fields });
  }
  for (const { field, scope, typeName } of pending) field.message = resolve(rules, scope, typeName);
  return rules;
}

/** A type name as protobuf resolves it: from the innermost enclosing scope outwards. */
function resolve(rules: Map<string, MessageRule>, scope: string, typeName: string): MessageRule {
  if (typeName.startsWith('.')) return must(rules.get(typeName.slice(1)), typeName);
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const found = rules.get([...parts.slice(0, i), typeName].join('.'));
    if (found !== undefined) return found;
  }
  return must(undefined, typeName);
}

function must(rule: MessageRule | undefined, typeName: string): MessageRule {
  if (rule === undefined) throw new Error(`@k8ts/proto: message type ${typeName} not found`);
  return rule;
}
