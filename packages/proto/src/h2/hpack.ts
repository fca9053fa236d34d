/**
 * HPACK (RFC 7541): a header block decoder with its dynamic table, and the few encoder pieces our server needs
 * (it sends no dynamic-table or Huffman-coded fields, so its peers' decoders keep no state for it).
 */
import { HpackError, huffmanDecodeInto, huffmanMaxDecodedLength } from './huffman.js';

export { HpackError };

/** The static table entries our encoders name (Appendix A's indices). */
export const StaticIndex = {
  AUTHORITY: 1,
  METHOD_POST: 3,
  PATH: 4,
  SCHEME_HTTP: 6,
  STATUS_200: 8,
  CONTENT_TYPE: 31,
} as const;

/** Appendix A; index i of HPACK is entry i - 1. */
export const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

const STATIC_COUNT = STATIC_TABLE.length;
/** Per-entry overhead in the table size (§4.1). */
const ENTRY_OVERHEAD = 32;
/** Largest integer accepted: any real index, length or table size is far smaller. */
const MAX_INT = 0x7fffffff;
/** 5 continuation octets carry 35 bits, already past MAX_INT; more can only be padding or an attack. */
const MAX_INT_CONTINUATIONS = 5;

/**
 * Decodes the header blocks of one direction of one connection, in order: the dynamic table carries over
 * from block to block. After an HpackError the table is unusable, as the connection is (COMPRESSION_ERROR).
 */
export class HpackDecoder {
  // The dynamic table, oldest entry at #head and newest at the end, so an insert is a push and an
  // eviction a #head++; the dead prefix is dropped now and then.
  #names: string[] = [];
  #values: string[] = [];
  #head = 0;
  #size = 0;
  /** The table's maximum size as last set by the peer's encoder (§4.2); starts at the settings limit. */
  #maxSize: number;
  /** Our SETTINGS_HEADER_TABLE_SIZE: no size update may go above it. */
  readonly #limit: number;
  #pos = 0;
  #scratch = Buffer.allocUnsafe(256);

  constructor(maxTableSize = 4096) {
    if (!(Number.isInteger(maxTableSize) && maxTableSize >= 0 && maxTableSize <= MAX_INT)) {
      throw new RangeError(`bad HPACK table size ${maxTableSize}`);
    }
    this.#limit = maxTableSize;
    this.#maxSize = maxTableSize;
  }

  /** Decodes one complete header block (HEADERS plus its CONTINUATIONs) into name/value pairs, latin1. */
  decode(block: Uint8Array): [string, string][] {
    const buf = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const end = buf.length;
    const fields: [string, string][] = [];
    this.#pos = 0;
    while (this.#pos < end) {
      const first = buf[this.#pos]!;
      if (first & 0x80) {
        // Indexed field (§6.1).
        const index = this.#int(buf, end, 0x7f);
        if (index === 0) throw new HpackError('indexed header field with index 0');
        if (index <= STATIC_COUNT) {
          const entry = STATIC_TABLE[index - 1]!;
          fields.push([entry[0], entry[1]]);
        } else {
          const i = this.#dynamic(index);
          fields.push([this.#names[i]!, this.#values[i]!]);
        }
      } else if (first & 0x40) {
        // Literal with incremental indexing (§6.2.1).
        const name = this.#name(buf, end, this.#int(buf, end, 0x3f));
        const value = this.#string(buf, end);
        this.#insert(name, value);
        fields.push([name, value]);
      } else if (first & 0x20) {
        // Dynamic table size update (§6.3): only before the first field of a block (§4.2).
        if (fields.length > 0) throw new HpackError('dynamic table size update after a header field');
        const size = this.#int(buf, end, 0x1f);
        if (size > this.#limit) throw new HpackError(`dynamic table size update ${size} above the limit ${this.#limit}`);
        this.#maxSize = size;
        this.#evict(0);
      } else {
        // Literal without indexing (0000) or never indexed (0001) (§6.2.2, §6.2.3): the same to a decoder
        // that forwards nothing.
        const name = this.#name(buf, end, this.#int(buf, end, 0x0f));
        fields.push([name, this.#string(buf, end)]);
      }
    }
    return fields;
  }

  /** The dynamic table, newest entry first (HPACK index 62 onwards). */
  tableEntries(): [string, string][] {
    const entries: [string, string][] = [];
    for (let i = this.#names.length - 1; i >= this.#head; i--) entries.push([this.#names[i]!, this.#values[i]!]);
    return entries;
  }

  /** The dynamic table's size by the §4.1 rule (octets plus 32 per entry). */
  tableSize(): number {
    return this.#size;
  }

  /** The dynamic table's current maximum size, as last set by a size update. */
  tableMaxSize(): number {
    return this.#maxSize;
  }

  /** An N-bit prefix integer (§5.1) at #pos, whose first octet is known to exist; mask is 2^N - 1. */
  #int(buf: Buffer, end: number, mask: number): number {
    let pos = this.#pos;
    let value = buf[pos++]! & mask;
    if (value === mask) {
      let scale = 1;
      let byte: number;
      let n = 0;
      do {
        if (pos >= end) throw new HpackError('truncated integer');
        if (++n > MAX_INT_CONTINUATIONS) throw new HpackError('integer too long');
        byte = buf[pos++]!;
        value += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte & 0x80);
      if (value > MAX_INT) throw new HpackError('integer overflow');
    }
    this.#pos = pos;
    return value;
  }

  /** A string literal (§5.2), plain or Huffman-coded. */
  #string(buf: Buffer, end: number): string {
    if (this.#pos >= end) throw new HpackError('truncated string literal');
    const huffman = buf[this.#pos]! & 0x80;
    const length = this.#int(buf, end, 0x7f);
    const start = this.#pos;
    if (length > end - start) throw new HpackError('truncated string literal');
    this.#pos = start + length;
    if (!huffman) return buf.toString('latin1', start, start + length);
    const room = huffmanMaxDecodedLength(length);
    if (this.#scratch.length < room) this.#scratch = Buffer.allocUnsafe(Math.max(room, 2 * this.#scratch.length));
    return this.#scratch.toString('latin1', 0, huffmanDecodeInto(buf, start, start + length, this.#scratch, 0));
  }

  /** A literal field's name: from the tables when index > 0, else a string literal that follows. */
  #name(buf: Buffer, end: number, index: number): string {
    if (index === 0) return this.#string(buf, end);
    if (index <= STATIC_COUNT) return STATIC_TABLE[index - 1]![0];
    return this.#names[this.#dynamic(index)]!;
  }

  /** Position in #names/#values of HPACK index (> STATIC_COUNT) in the dynamic table. */
  #dynamic(index: number): number {
    const i = this.#names.length - 1 - (index - STATIC_COUNT - 1);
    if (i < this.#head) throw new HpackError(`header index ${index} past the tables`);
    return i;
  }

  #insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.#maxSize) {
      // Not an error: the table just ends up empty (§4.4).
      this.#evict(this.#maxSize + 1);
      return;
    }
    this.#evict(size);
    this.#names.push(name);
    this.#values.push(value);
    this.#size += size;
  }

  /** Evicts oldest entries until `incoming` more octets fit within #maxSize (§4.3, §4.4). */
  #evict(incoming: number): void {
    const names = this.#names;
    const values = this.#values;
    let head = this.#head;
    while (this.#size + incoming > this.#maxSize && head < names.length) {
      this.#size -= names[head]!.length + values[head]!.length + ENTRY_OVERHEAD;
      head++;
    }
    if (head === names.length) {
      names.length = 0;
      values.length = 0;
      head = 0;
    } else if (head >= 32 && head * 2 >= names.length) {
      // Amortized O(1) per entry: what moves is at most what was evicted since the last time.
      names.splice(0, head);
      values.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }
}

// Encoding. Strings are latin1: one octet per char, which is what header names and values are.

function intLength(value: number, mask: number): number {
  if (value < mask) return 1;
  let n = 2;
  for (let rest = value - mask; rest >= 128; rest = Math.floor(rest / 128)) n++;
  return n;
}

/** Writes an N-bit prefix integer at pos with the representation's flag bits in `flags`; returns the new pos. */
function writeInt(out: Buffer, pos: number, value: number, mask: number, flags: number): number {
  if (value < mask) {
    out[pos++] = flags | value;
    return pos;
  }
  out[pos++] = flags | mask;
  let rest = value - mask;
  while (rest >= 128) {
    out[pos++] = 0x80 | (rest & 0x7f);
    rest = Math.floor(rest / 128);
  }
  out[pos++] = rest;
  return pos;
}

function stringLength(s: string): number {
  return intLength(s.length, 0x7f) + s.length;
}

/** Writes a plain (not Huffman-coded) string literal. */
function writeString(out: Buffer, pos: number, s: string): number {
  pos = writeInt(out, pos, s.length, 0x7f, 0);
  return pos + out.write(s, pos, 'latin1');
}

function checkStaticIndex(index: number): void {
  if (!(Number.isInteger(index) && index >= 1 && index <= STATIC_COUNT)) {
    throw new RangeError(`no static table entry ${index}`);
  }
}

/** An indexed field naming a static table entry (§6.1), e.g. 8 for `:status: 200`. */
export function hpackIndexed(index: number): Buffer {
  checkStaticIndex(index);
  const out = Buffer.allocUnsafe(intLength(index, 0x7f));
  writeInt(out, 0, index, 0x7f, 0x80);
  return out;
}

/** A literal field without indexing and with a literal name (§6.2.2), so it leaves no state in the peer. */
export function hpackLiteral(name: string, value: string): Buffer {
  const out = Buffer.allocUnsafe(1 + stringLength(name) + stringLength(value));
  out[0] = 0;
  writeString(out, writeString(out, 1, name), value);
  return out;
}

/** A literal field without indexing whose name is static table entry nameIndex's (§6.2.2). */
export function hpackLiteralIndexedName(nameIndex: number, value: string): Buffer {
  checkStaticIndex(nameIndex);
  const out = Buffer.allocUnsafe(intLength(nameIndex, 0x0f) + stringLength(value));
  writeString(out, writeInt(out, 0, nameIndex, 0x0f, 0), value);
  return out;
}
