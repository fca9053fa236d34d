/**
 * Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into the JSON object
 * the same client would have sent as JSON.
 *
 * A body is the magic `k8s\0` and a runtime.Unknown message: typeMeta=1 {apiVersion=1, kind=2}, raw=2
 * (the object's own message), contentEncoding=3, contentType=4.
 *
 * Promises:
 * - The result equals Go's JSON encoding of the decoded Go object: pointer fields appear only when sent,
 *   omitempty fields only when non-zero, other fields always (zero values, `null` for absent lists/maps).
 * - Field numbers the tables do not know are skipped and reported as `path.#number` (path written as the
 *   strict JSON decoder writes it), at most UNKNOWN_FIELDS_MAX of them, so the server can treat them as it
 *   treats unknown JSON fields.
 * - Any malformed input (bad magic, truncation, wrong wire type, unknown kind) throws ProtobufDecodeError.
 */
import { builtInMessages, type FieldSpec, type MessageSpec, type SpecialType } from './schema.js';
import { base64, specialValue, utf8 } from './values.js';
import { ProtobufDecodeError, WireReader, WireType } from './wire.js';

export const KUBERNETES_PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
export const KUBERNETES_PROTOBUF_MAGIC: readonly number[] = [0x6b, 0x38, 0x73, 0x00];
export const UNKNOWN_PROTOBUF_FIELDS_MAX = 100;

/** apiVersion/kind → the message of its object. */
const KIND_MESSAGES: Readonly<Record<string, string>> = {
  'v1/Binding': 'core.Binding',
  'v1/ConfigMap': 'core.ConfigMap',
  'v1/Endpoints': 'core.Endpoints',
  'v1/Event': 'core.Event',
  'v1/Namespace': 'core.Namespace',
  'v1/Node': 'core.Node',
  'v1/Pod': 'core.Pod',
  'v1/Secret': 'core.Secret',
  'v1/Service': 'core.Service',
  'v1/ServiceAccount': 'core.ServiceAccount',
  'apps/v1/Deployment': 'apps.Deployment',
  'apps/v1/ReplicaSet': 'apps.ReplicaSet',
  'coordination.k8s.io/v1/Lease': 'coordination.Lease',
  'discovery.k8s.io/v1/EndpointSlice': 'discovery.EndpointSlice',
  'policy/v1/Eviction': 'policy.Eviction',
  'policy/v1beta1/Eviction': 'policy.Eviction',
  'policy/v1/PodDisruptionBudget': 'policy.PodDisruptionBudget',
  'scheduling.k8s.io/v1/PriorityClass': 'scheduling.PriorityClass',
};

/** The qualified message name for a kind, or undefined if we cannot decode it. */
export function protobufMessageFor(apiVersion: string, kind: string): string | undefined {
  return KIND_MESSAGES[`${apiVersion}/${kind}`];
}

export interface DecodedProtobufObject {
  readonly apiVersion: string;
  readonly kind: string;
  /** The object as JSON would carry it, `kind` and `apiVersion` included. */
  readonly object: Record<string, unknown>;
  /** Skipped field numbers, e.g. `spec.template.spec.containers[0].#99`. */
  readonly unknownFields: string[];
}

export function hasKubernetesProtobufMagic(body: Uint8Array): boolean {
  return body.length >= KUBERNETES_PROTOBUF_MAGIC.length && KUBERNETES_PROTOBUF_MAGIC.every((byte, index) => body[index] === byte);
}

export function decodeKubernetesProtobuf(body: Uint8Array, messages: ReadonlyMap<string, MessageSpec> = builtInMessages()): DecodedProtobufObject {
  if (!hasKubernetesProtobufMagic(body)) throw new ProtobufDecodeError('protobuf: body does not start with the Kubernetes protobuf magic "k8s\\0"');
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array();
  let contentEncoding = '';
  let contentType = '';
  const envelope = new WireReader(body, KUBERNETES_PROTOBUF_MAGIC.length);
  while (!envelope.atEnd()) {
    const { fieldNumber, wireType } = envelope.readTag();
    if (fieldNumber > 4 || wireType !== WireType.lengthDelimited) {
      envelope.skip(wireType);
      continue;
    }
    const bytes = envelope.readLengthDelimited();
    if (fieldNumber === 1) ({ apiVersion, kind } = readTypeMeta(bytes));
    else if (fieldNumber === 2) raw = bytes;
    else if (fieldNumber === 3) contentEncoding = utf8(bytes);
    else contentType = utf8(bytes);
  }
  if (contentEncoding !== '') {
    throw new ProtobufDecodeError(`protobuf: unsupported content encoding ${JSON.stringify(contentEncoding)}`);
  }
  if (contentType !== '' && contentType !== KUBERNETES_PROTOBUF_CONTENT_TYPE) {
    throw new ProtobufDecodeError(`protobuf: unsupported content type ${JSON.stringify(contentType)}`);
  }
  const messageName = protobufMessageFor(apiVersion, kind);
  const spec = messageName === undefined ? undefined : messages.get(messageName);
  if (spec === undefined) {
    throw new ProtobufDecodeError(`protobuf: no protobuf decoding for apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)}`);
  }
  const unknownFields: string[] = [];
  const fields = new MessageDecoder(messages, unknownFields).decode(raw, spec, '');
  return { apiVersion, kind, object: { kind, apiVersion, ...fields }, unknownFields };
}

/** Decodes one message (no magic, no envelope) by qualified name, e.g. `core.PodSpec`. */
export function decodeProtobufMessage(
  bytes: Uint8Array,
  messageName: string,
  messages: ReadonlyMap<string, MessageSpec> = builtInMessages(),
): { object: Record<string, unknown>; unknownFields: string[] } {
  const spec = messages.get(messageName);
  if (spec === undefined) throw new Error(`protobuf: unknown message ${messageName}`);
  const unknownFields: string[] = [];
  return { object: new MessageDecoder(messages, unknownFields).decode(bytes, spec, ''), unknownFields };
}

function readTypeMeta(bytes: Uint8Array): { apiVersion: string; kind: string } {
  const typeMeta = { apiVersion: '', kind: '' };
  const reader = new WireReader(bytes);
  while (!reader.atEnd()) {
    const { fieldNumber, wireType } = reader.readTag();
    if ((fieldNumber === 1 || fieldNumber === 2) && wireType === WireType.lengthDelimited) {
      typeMeta[fieldNumber === 1 ? 'apiVersion' : 'kind'] = utf8(reader.readLengthDelimited());
    } else {
      reader.skip(wireType);
    }
  }
  return typeMeta;
}

/** A field's occurrences as read off the wire: varints, doubles or byte slices. */
type RawValue = bigint | number | Uint8Array;

function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function concat(chunks: readonly RawValue[]): Uint8Array {
  const slices = chunks.filter((chunk): chunk is Uint8Array => chunk instanceof Uint8Array);
  if (slices.length === 1 && slices[0] !== undefined) return slices[0];
  const out = new Uint8Array(slices.reduce((total, slice) => total + slice.length, 0));
  let offset = 0;
  for (const slice of slices) {
    out.set(slice, offset);
    offset += slice.length;
  }
  return out;
}

function isZero(value: unknown): boolean {
  if (value === '' || value === 0 || value === false || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

class MessageDecoder {
  constructor(
    private readonly messages: ReadonlyMap<string, MessageSpec>,
    private readonly unknownFields: string[],
  ) {}

  decode(bytes: Uint8Array, spec: MessageSpec, path: string): Record<string, unknown> {
    const occurrences = this.read(bytes, spec, path);
    const out: Record<string, unknown> = {};
    for (const field of spec.fields) {
      const raws = occurrences.get(field.number) ?? [];
      if (field.jsonName === '') {
        Object.assign(out, this.decode(concat(raws), this.messageOf(field), path));
        continue;
      }
      const fieldPath = joinPath(path, field.jsonName);
      if (raws.length === 0) {
        if (field.presence === 'always') out[field.jsonName] = field.cardinality === 'single' ? this.single(field, [], fieldPath) : null;
        continue;
      }
      const value =
        field.cardinality === 'single' ? this.single(field, raws, fieldPath)
        : field.cardinality === 'repeated' ? raws.map((raw, index) => this.single(field, [raw], `${fieldPath}[${index}]`))
        : this.map(field, raws, fieldPath);
      if (field.presence === 'omitempty' && isZero(value)) continue;
      out[field.jsonName] = value;
    }
    return out;
  }

  /** Collects every known field's occurrences in wire order; skips and reports unknown ones. */
  private read(bytes: Uint8Array, spec: MessageSpec, path: string): Map<number, RawValue[]> {
    const occurrences = new Map<number, RawValue[]>();
    const reader = new WireReader(bytes);
    while (!reader.atEnd()) {
      const { fieldNumber, wireType } = reader.readTag();
      const field = spec.byNumber.get(fieldNumber);
      if (field === undefined) {
        reader.skip(wireType);
        if (this.unknownFields.length < UNKNOWN_PROTOBUF_FIELDS_MAX) this.unknownFields.push(joinPath(path, `#${fieldNumber}`));
        continue;
      }
      let list = occurrences.get(fieldNumber);
      if (list === undefined) occurrences.set(fieldNumber, (list = []));
      const expected = wireTypeOf(field);
      if (wireType === expected) {
        list.push(readValue(reader, wireType));
      } else if (wireType === WireType.lengthDelimited && field.cardinality === 'repeated' && expected !== WireType.lengthDelimited) {
        const packed = new WireReader(reader.readLengthDelimited()); // a packed repeated number field
        while (!packed.atEnd()) list.push(readValue(packed, expected));
      } else {
        const where = `${joinPath(path, field.jsonName)} (field ${fieldNumber} of ${spec.name})`;
        throw new ProtobufDecodeError(`protobuf: ${where} has wire type ${wireType}, want ${expected}`);
      }
    }
    return occurrences;
  }

  /** The value of a non-repeated field (or one element): the last occurrence wins; messages merge. */
  private single(field: FieldSpec, raws: readonly RawValue[], path: string): unknown {
    if (field.kind === 'message') return this.decode(concat(raws), this.messageOf(field), path);
    if (field.kind === 'special') return specialValue(field.type as SpecialType, concat(raws), path);
    const raw = raws[raws.length - 1];
    return scalarValue(field.type, raw);
  }

  private map(field: FieldSpec, entries: readonly RawValue[], path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const entry of entries) {
      let key = '';
      const values: RawValue[] = [];
      const reader = new WireReader(entry as Uint8Array);
      while (!reader.atEnd()) {
        const { fieldNumber, wireType } = reader.readTag();
        if (fieldNumber === 1 && wireType === WireType.lengthDelimited) key = utf8(reader.readLengthDelimited());
        else if (fieldNumber === 2 && wireType === wireTypeOf(field)) values.push(readValue(reader, wireType));
        else reader.skip(wireType);
      }
      // Go's generated map decoding starts a bytes value at []byte{}, so a missing value is "" (not null).
      out[key] = field.type === 'bytes' && values.length === 0 ? '' : this.single(field, values, joinPath(path, key));
    }
    return out;
  }

  private messageOf(field: FieldSpec): MessageSpec {
    const spec = this.messages.get(field.type);
    if (spec === undefined) throw new Error(`protobuf schema: unknown message ${field.type}`);
    return spec;
  }
}

function readValue(reader: WireReader, wireType: number): RawValue {
  if (wireType === WireType.varint) return reader.readVarint();
  if (wireType === WireType.fixed64) return reader.readFixed64().getFloat64(0, true);
  return reader.readLengthDelimited();
}

function wireTypeOf(field: FieldSpec): number {
  if (field.kind !== 'scalar') return WireType.lengthDelimited;
  if (field.type === 'int32' || field.type === 'int64' || field.type === 'bool') return WireType.varint;
  return field.type === 'double' ? WireType.fixed64 : WireType.lengthDelimited;
}

/** A scalar's JSON value; `raw` undefined means absent, giving Go's zero value. */
function scalarValue(type: string, raw: RawValue | undefined): unknown {
  switch (type) {
    case 'string':
      return raw instanceof Uint8Array ? utf8(raw) : '';
    case 'bytes':
      return raw instanceof Uint8Array ? base64(raw) : null;
    case 'int32':
      return typeof raw === 'bigint' ? Number(BigInt.asIntN(32, raw)) : 0;
    case 'int64':
      return typeof raw === 'bigint' ? Number(BigInt.asIntN(64, raw)) : 0;
    case 'bool':
      return typeof raw === 'bigint' ? raw !== 0n : false;
    case 'double':
      return typeof raw === 'number' ? raw : 0;
    default:
      throw new Error(`protobuf schema: unknown scalar type ${type}`);
  }
}
