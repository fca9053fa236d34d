/**
 * A minimal protobuf wire-format reader: tags, varints, length-delimited slices and skipping. It never
 * copies the input; every read checks the bounds and throws `ProtobufDecodeError` on truncated or
 * malformed input, so a caller can map any failure to 400 BadRequest.
 */

export class ProtobufDecodeError extends Error {
  override readonly name = 'ProtobufDecodeError';
}

export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

export interface Tag {
  readonly fieldNumber: number;
  readonly wireType: number;
}

const VARINT_BYTES_MAX = 10;

export class WireReader {
  private position: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    if (start < 0 || end > bytes.length || start > end) throw new ProtobufDecodeError(`protobuf: bad slice ${start}..${end}`);
    this.position = start;
  }

  atEnd(): boolean {
    return this.position >= this.end;
  }

  readTag(): Tag {
    const key = this.readSafeVarint('tag');
    const fieldNumber = Math.floor(key / 8);
    if (fieldNumber < 1 || fieldNumber > 0x1fffffff) throw new ProtobufDecodeError(`protobuf: invalid field number ${fieldNumber}`);
    return { fieldNumber, wireType: key % 8 };
  }

  /** A varint as an unsigned 64-bit value. */
  readVarint(): bigint {
    let value = 0n;
    let shift = 0n;
    for (let index = 0; index < VARINT_BYTES_MAX; index++) {
      const byte = this.readByte('varint');
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, value);
      shift += 7n;
    }
    throw new ProtobufDecodeError('protobuf: varint longer than 10 bytes');
  }

  /** A varint that must fit a safe integer (tags, lengths). */
  readSafeVarint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let index = 0; index < 8; index++) {
      const byte = this.readByte(what);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new ProtobufDecodeError(`protobuf: ${what} too large`);
  }

  readFixed64(): DataView {
    return this.view(this.take(8, 'fixed64'), 8);
  }

  readFixed32(): DataView {
    return this.view(this.take(4, 'fixed32'), 4);
  }

  /** The payload of a length-delimited field, as a view into the input. */
  readLengthDelimited(): Uint8Array {
    const length = this.readSafeVarint('length');
    const start = this.take(length, 'length-delimited field');
    return this.bytes.subarray(start, start + length);
  }

  /** Skips the value of a field whose tag was just read. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint:
        this.readVarint();
        return;
      case WireType.fixed64:
        this.take(8, 'fixed64');
        return;
      case WireType.lengthDelimited:
        this.readLengthDelimited();
        return;
      case WireType.fixed32:
        this.take(4, 'fixed32');
        return;
      default:
        throw new ProtobufDecodeError(`protobuf: unsupported wire type ${wireType}`);
    }
  }

  private readByte(what: string): number {
    const byte = this.position < this.end ? this.bytes[this.position] : undefined;
    if (byte === undefined) throw new ProtobufDecodeError(`protobuf: truncated ${what}`);
    this.position++;
    return byte;
  }

  /** Advances over `count` bytes and returns where they start. */
  private take(count: number, what: string): number {
    if (count > this.end - this.position) throw new ProtobufDecodeError(`protobuf: truncated ${what} (${count} bytes wanted, ${this.end - this.position} left)`);
    const start = this.position;
    this.position += count;
    return start;
  }

  private view(start: number, length: number): DataView {
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + start, length);
  }
}
