import { invariant } from './errors.js';

/** Raised by `ByteReader` when bytes run out or a field holds an impossible value. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Little-endian field writer for the WAL and snapshot formats; sizes are known up front. */
export class ByteWriter {
  private readonly buffer: Buffer;
  private offset = 0;

  constructor(sizeBytes: number) {
    this.buffer = Buffer.alloc(sizeBytes);
  }

  u8(value: number): this {
    invariant(Number.isInteger(value) && value >= 0 && value <= 0xff, () => `u8 out of range: ${value}`);
    this.offset = this.buffer.writeUInt8(value, this.offset);
    return this;
  }

  u32(value: number): this {
    invariant(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff, () => `u32 out of range: ${value}`);
    this.offset = this.buffer.writeUInt32LE(value, this.offset);
    return this;
  }

  /**
   * Indexes and terms are safe integers; node ids are 64-bit values a double holds exactly (see
   * @k8ts/etcdserver's memberIdOf). Any integral double in [0, 2^64) makes the trip unchanged.
   */
  u64(value: number): this {
    invariant(Number.isInteger(value) && value >= 0 && value < 2 ** 64, () => `u64 out of range: ${value}`);
    this.offset = this.buffer.writeBigUInt64LE(BigInt(value), this.offset);
    return this;
  }

  bytes(value: Uint8Array): this {
    this.buffer.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  /** The filled buffer; every byte promised to the constructor must have been written. */
  finish(): Buffer {
    invariant(this.offset === this.buffer.length, () => `wrote ${this.offset} of ${this.buffer.length} bytes`);
    return this.buffer;
  }
}

export class ByteReader {
  private offset = 0;

  constructor(private readonly buffer: Uint8Array) {}

  private take(length: number, what: string): Buffer {
    if (this.offset + length > this.buffer.length) {
      throw new DecodeError(`${what} needs ${length} bytes at ${this.offset}, only ${this.remaining()} left`);
    }
    const view = Buffer.from(this.buffer.buffer, this.buffer.byteOffset + this.offset, length);
    this.offset += length;
    return view;
  }

  u8(what: string): number {
    return this.take(1, what).readUInt8(0);
  }

  u32(what: string): number {
    return this.take(4, what).readUInt32LE(0);
  }

  u64(what: string): number {
    const value = this.take(8, what).readBigUInt64LE(0);
    const asNumber = Number(value);
    // Only values written from a double come back: anything a double cannot hold exactly is damage.
    if (BigInt(asNumber) !== value) throw new DecodeError(`${what} ${value} is not exactly representable`);
    return asNumber;
  }

  /** A copy, so decoded values never pin the (large) buffer they were read from. */
  bytes(length: number, what: string): Uint8Array {
    return new Uint8Array(this.take(length, what));
  }

  rest(what: string): Uint8Array {
    return this.bytes(this.remaining(), what);
  }

  remaining(): number {
    return this.buffer.length - this.offset;
  }

  /** Trailing bytes mean the writer and reader disagree on the layout. */
  end(what: string): void {
    if (this.remaining() !== 0) throw new DecodeError(`${this.remaining()} unexpected trailing bytes after ${what}`);
  }
}
