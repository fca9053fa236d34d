/**
 * The JSON forms of the types whose Go JSON encoding differs from their protobuf message: Time,
 * MicroTime, Duration, Quantity, IntOrString, RawExtension and FieldsV1; plus UTF-8 and base64, which
 * this runtime-neutral package writes without Node's Buffer.
 */
import type { SpecialType } from './schema.js';
import { ProtobufDecodeError, WireReader, WireType } from './wire.js';

interface Utf8Decoder {
  decode(bytes: Uint8Array): string;
}
const utf8Decoder = new (globalThis as unknown as { TextDecoder: new () => Utf8Decoder }).TextDecoder();

/** Invalid UTF-8 becomes U+FFFD, as Go's JSON encoder writes it. */
export function utf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding: Go's JSON form of []byte. */
export function base64(bytes: Uint8Array): string {
  let out = '';
  for (let index = 0; index < bytes.length; index += 3) {
    const chunk = ((bytes[index] ?? 0) << 16) | ((bytes[index + 1] ?? 0) << 8) | (bytes[index + 2] ?? 0);
    const symbols = Math.min(4, Math.ceil(((bytes.length - index) * 8) / 6));
    for (let symbol = 0; symbol < 4; symbol++) {
      out += symbol < symbols ? BASE64_ALPHABET.charAt((chunk >> (18 - 6 * symbol)) & 63) : '=';
    }
  }
  return out;
}

/** Seconds from 1970 to Go's zero time (0001-01-01T00:00:00Z), which JSON writes as null. */
const GO_ZERO_TIME_SECONDS = -62135596800n;
const SECONDS_MAX = 253402300799n; // 9999-12-31T23:59:59Z: Go refuses to write later years in RFC 3339

function rfc3339(seconds: bigint, micros: number | undefined, path: string): string {
  if (seconds < GO_ZERO_TIME_SECONDS || seconds > SECONDS_MAX) throw new ProtobufDecodeError(`protobuf: ${path}: time out of range (${seconds}s)`);
  const iso = new Date(Number(seconds) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 0..9999
  const whole = iso.slice(0, 19);
  return micros === undefined ? `${whole}Z` : `${whole}.${String(micros).padStart(6, '0')}Z`;
}

/** meta/v1 Time: seconds only (Go drops the nanoseconds on decode); empty bytes and the zero time are null. */
function timeValue(fields: ReadonlyMap<number, bigint>, empty: boolean, path: string): string | null {
  const seconds = BigInt.asIntN(64, fields.get(1) ?? 0n);
  if (empty || seconds === GO_ZERO_TIME_SECONDS) return null;
  return rfc3339(seconds, undefined, path);
}

/** meta/v1 MicroTime: nanoseconds truncated to microseconds, written with six digits. */
function microTimeValue(fields: ReadonlyMap<number, bigint>, empty: boolean, path: string): string | null {
  if (empty) return null;
  const micros = Math.trunc(Number(BigInt.asIntN(32, fields.get(2) ?? 0n)) / 1000);
  const seconds = BigInt.asIntN(64, fields.get(1) ?? 0n) + BigInt(Math.floor(micros / 1_000_000));
  const fraction = ((micros % 1_000_000) + 1_000_000) % 1_000_000;
  if (seconds === GO_ZERO_TIME_SECONDS && fraction === 0) return null;
  return rfc3339(seconds, fraction, path);
}

function decimal(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const fraction = (value % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return fraction === '' ? `${value / scale}` : `${value / scale}.${fraction}`;
}

/** Go's time.Duration.String(): "0s", "1.5µs", "250ms", "1m30s", "2h0m0s". */
export function goDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const sign = nanoseconds < 0n ? '-' : '';
  const value = nanoseconds < 0n ? -nanoseconds : nanoseconds;
  if (value < 1000n) return `${sign}${value}ns`;
  if (value < 1_000_000n) return `${sign}${decimal(value, 3)}µs`;
  if (value < 1_000_000_000n) return `${sign}${decimal(value, 6)}ms`;
  const seconds = decimal(value % 60_000_000_000n, 9);
  const minutes = (value / 60_000_000_000n) % 60n;
  const hours = value / 3_600_000_000_000n;
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function parseJson(bytes: Uint8Array | undefined, path: string): unknown {
  if (bytes === undefined || bytes.length === 0) return null;
  try {
    return JSON.parse(utf8(bytes)) as unknown;
  } catch {
    throw new ProtobufDecodeError(`protobuf: ${path}: embedded raw bytes are not JSON`);
  }
}

/**
 * The JSON value of a special type from its message bytes (empty when the field is absent: every special
 * type is a struct in Go, so an absent field reads as the zero value: null for times, "0", 0, "0s").
 * Unknown inner fields are skipped.
 */
export function specialValue(type: SpecialType, bytes: Uint8Array, path: string): unknown {
  const numbers = new Map<number, bigint>();
  const slices = new Map<number, Uint8Array>();
  const reader = new WireReader(bytes);
  while (!reader.atEnd()) {
    const tag = reader.readTag();
    if (tag.wireType === WireType.varint) numbers.set(tag.fieldNumber, reader.readVarint());
    else if (tag.wireType === WireType.lengthDelimited) slices.set(tag.fieldNumber, reader.readLengthDelimited());
    else reader.skip(tag.wireType);
  }
  switch (type) {
    case 'Time':
      return timeValue(numbers, bytes.length === 0, path);
    case 'MicroTime':
      return microTimeValue(numbers, bytes.length === 0, path);
    case 'Duration':
      return goDuration(BigInt.asIntN(64, numbers.get(1) ?? 0n));
    case 'Quantity': {
      const text = slices.get(1);
      return text === undefined || text.length === 0 ? '0' : utf8(text);
    }
    case 'IntOrString': {
      const kind = numbers.get(1) ?? 0n;
      if (kind === 0n) return Number(BigInt.asIntN(32, numbers.get(2) ?? 0n));
      if (kind === 1n) return utf8(slices.get(3) ?? new Uint8Array());
      throw new ProtobufDecodeError(`protobuf: ${path}: IntOrString type ${kind} is neither 0 (int) nor 1 (string)`);
    }
    case 'RawExtension':
    case 'FieldsV1':
      return parseJson(slices.get(1), path);
  }
}
