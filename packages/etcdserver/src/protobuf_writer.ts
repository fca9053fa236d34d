/**
 * The protobuf encoding primitives the store's hand-written codecs share (raft_codec, watch_encoding,
 * watch_response_size): the sizes of varints and fields, and a writer that fills a Buffer allocated
 * once at the size those functions add up to. Only what those messages need: varint and
 * length-delimited fields, nested messages, packed repeated uint64s, all with field numbers 1-15
 * (one-byte tags). Integers are doubles, or bigints where a double cannot hold them; a negative
 * int64 is its 64-bit two's complement on the wire (ten bytes), as protobuf writes it.
 */

export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

/** Bytes of a varint holding an integer: 7 bits each; a negative int64 always takes 10. */
export function varintSize(value: number): number {
  if (value < 0) return 10;
  let size = 1;
  for (; value >= 128; value = Math.floor(value / 128)) size++;
  return size;
}

export function bigVarintSize(value: bigint): number {
  if (value < 0n) return 10;
  let size = 1;
  for (; value >= 128n; value >>= 7n) size++;
  return size;
}

/** A varint field's tag and value; 0 for a zero, which proto3 leaves out. */
export function varintFieldSize(value: number): number {
  return value === 0 ? 0 : 1 + varintSize(value);
}

export function bigVarintFieldSize(value: bigint): number {
  return value === 0n ? 0 : 1 + bigVarintSize(value);
}

/** A length-delimited field (bytes, string, nested message) of `length` bytes: tag, length, payload. */
export function lengthDelimitedSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** The payload of a packed repeated uint64. */
export function packedSize(values: readonly number[]): number {
  let size = 0;
  for (const value of values) size += varintSize(value);
  return size;
}

/**
 * Writes fields into a Buffer allocated at the message's size. A nested message is its tag and
 * length (`lengthDelimited`) followed by its own fields. `finish` holds the sizes to the writing.
 */
export class ProtobufWriter {
  constructor(
    readonly buffer: Buffer,
    public offset = 0,
  ) {}

  tag(field: number, wireType: number): void {
    this.buffer[this.offset++] = (field << 3) | wireType;
  }

  varint(value: number): void {
    if (value < 0) {
      this.bigVarint(BigInt(value));
      return;
    }
    const buffer = this.buffer;
    let offset = this.offset;
    // The bit operators take 32 bits: above that, divide (exact for a power of two).
    for (; value > 0xffffffff; value = Math.floor(value / 128)) buffer[offset++] = (value % 128) | 128;
    for (; value > 127; value >>>= 7) buffer[offset++] = (value & 127) | 128;
    buffer[offset++] = value;
    this.offset = offset;
  }

  bigVarint(value: bigint): void {
    let rest = BigInt.asUintN(64, value);
    for (; rest > 127n; rest >>= 7n) this.buffer[this.offset++] = Number(rest & 127n) | 128;
    this.buffer[this.offset++] = Number(rest);
  }

  /** A varint field, left out at zero (proto3). */
  varintField(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, VARINT);
    this.varint(value);
  }

  bigVarintField(field: number, value: bigint): void {
    if (value === 0n) return;
    this.tag(field, VARINT);
    this.bigVarint(value);
  }

  /** The tag and length of a length-delimited field whose `length` bytes the caller writes next. */
  lengthDelimited(field: number, length: number): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(length);
  }

  /** A bytes or string field, written even when empty: the caller leaves out what it leaves out. */
  bytesField(field: number, bytes: Uint8Array): void {
    this.lengthDelimited(field, bytes.byteLength);
    this.raw(bytes);
  }

  /** A packed repeated uint64, left out when empty. */
  packedField(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    this.lengthDelimited(field, packedSize(values));
    for (const value of values) this.varint(value);
  }

  /** Bytes already encoded (a field kept from an earlier message). */
  raw(bytes: Uint8Array): void {
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.byteLength;
  }

  /** The buffer, once exactly filled: a size that disagrees with the writing is a bug, not a message. */
  finish(): Buffer {
    if (this.offset !== this.buffer.length) throw new Error(`protobuf writer filled ${this.offset} bytes of ${this.buffer.length}`);
    return this.buffer;
  }
}
