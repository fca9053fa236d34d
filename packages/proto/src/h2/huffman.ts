/** HPACK's static Huffman code (RFC 7541 §5.2, Appendix B): a table-driven decoder and an encoder. */

/**
 * A malformed header block: an HTTP/2 COMPRESSION_ERROR, which is fatal to the connection since the
 * decoder's dynamic table can no longer be trusted. Defined here (re-exported by hpack.ts) so the
 * Huffman decoder can raise it without an import cycle.
 */
export class HpackError extends Error {
  override name = 'HpackError';
}

/** The end-of-string symbol: never sent whole, only its prefix as padding. */
export const EOS = 256;

/**
 * Code lengths of symbols 0..255 and EOS, Appendix B's "len" column. The code is canonical (codes handed
 * out in order of length, then symbol), so the lengths alone determine it.
 */
const LENGTHS = Uint8Array.from([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00-0x0f
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10-0x1f
   6, 10, 10, 12, 13,  6,  8, 11, 10, 10,  8, 11,  8,  6,  6,  6, // 0x20-0x2f
   5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8, 15,  6, 12, 10, // 0x30-0x3f
  13,  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, // 0x40-0x4f
   7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8, 13, 19, 13, 14,  6, // 0x50-0x5f
  15,  5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5, // 0x60-0x6f
   6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7, 15, 11, 14, 13, 28, // 0x70-0x7f
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80-0x8f
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90-0x9f
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0-0xaf
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0-0xbf
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0-0xcf
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0-0xdf
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0-0xef
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0-0xff
  30, // EOS
]);

/** Each symbol's code, right-aligned (at most 30 bits, so it fits a uint32). */
const CODES = new Uint32Array(257);
{
  const order = Array.from({ length: 257 }, (_, s) => s).sort((a, b) => LENGTHS[a]! - LENGTHS[b]! || a - b);
  let code = 0;
  let len = LENGTHS[order[0]!]!;
  for (const s of order) {
    const l = LENGTHS[s]!;
    code *= 2 ** (l - len);
    len = l;
    CODES[s] = code++;
  }
  // A complete prefix code ends exactly at 2^maxlen; anything else means a wrong length above.
  if (code !== 2 ** len) throw new Error('HPACK Huffman code lengths do not form a complete code');
}

/** A symbol's code and its length in bits (for tests and for encoders that want to size their output). */
export function huffmanCode(symbol: number): readonly [code: number, bits: number] {
  if (!(symbol >= 0 && symbol <= EOS)) throw new RangeError(`no Huffman symbol ${symbol}`);
  return [CODES[symbol]!, LENGTHS[symbol]!];
}

// The decoder is a state machine over the code tree's 256 internal nodes that eats 4 bits at a time. As no
// code is shorter than 5 bits, a nibble completes at most one symbol, so each transition is one table entry:
// the next node, and the symbol emitted on the way if any.
const EMIT = 0x10000;
const FAIL = 0x20000; // the nibble completed EOS, which must not appear in a string (§5.2)
const TRANSITIONS = new Uint32Array(256 * 16);
/** Whether decoding may stop at a node: its path from the root is all 1s, at most 7 of them (EOS's prefix). */
const ACCEPTING = new Uint8Array(256);
{
  // children[2 * node + bit]: > 0 another internal node, < 0 leaf -(symbol + 1), 0 not yet made.
  const children = new Int16Array(2 * 256);
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let s = 0; s <= EOS; s++) {
    const code = CODES[s]!;
    let node = 0;
    for (let i = LENGTHS[s]! - 1; i > 0; i--) {
      const bit = (code >>> i) & 1;
      let child = children[2 * node + bit]!;
      if (child === 0) {
        child = nodes++;
        children[2 * node + bit] = child;
        depth[child] = depth[node]! + 1;
        allOnes[child] = allOnes[node]! & bit;
      }
      if (child < 0) throw new Error('HPACK Huffman code is not prefix-free');
      node = child;
    }
    children[2 * node + (code & 1)] = -(s + 1);
  }
  for (let node = 0; node < 256; node++) {
    ACCEPTING[node] = allOnes[node]! && depth[node]! <= 7 ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let cur = node;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const child = children[2 * cur + ((nibble >>> i) & 1)]!;
        if (child > 0) {
          cur = child;
          continue;
        }
        const symbol = -child - 1;
        if (symbol === EOS) entry |= FAIL;
        else entry |= EMIT | (symbol << 8);
        cur = 0;
      }
      TRANSITIONS[node * 16 + nibble] = entry | cur;
    }
  }
}

/** The most octets that `length` Huffman-coded octets can decode to (the shortest code is 5 bits). */
export function huffmanMaxDecodedLength(length: number): number {
  return Math.floor((length * 8) / 5);
}

/**
 * Decodes src[start, end) into out from outPos, returning the new end in out; out needs
 * huffmanMaxDecodedLength(end - start) octets of room. Lets the HPACK decoder reuse one scratch buffer.
 */
export function huffmanDecodeInto(src: Uint8Array, start: number, end: number, out: Uint8Array, outPos: number): number {
  let state = 0;
  let o = outPos;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    let t = TRANSITIONS[(state << 4) | (byte >>> 4)]!;
    if (t & (EMIT | FAIL)) {
      if (t & FAIL) throw new HpackError('EOS symbol in a Huffman-coded string');
      out[o++] = t >>> 8;
    }
    t = TRANSITIONS[((t & 0xff) << 4) | (byte & 0x0f)]!;
    if (t & (EMIT | FAIL)) {
      if (t & FAIL) throw new HpackError('EOS symbol in a Huffman-coded string');
      out[o++] = t >>> 8;
    }
    state = t & 0xff;
  }
  if (!ACCEPTING[state]) throw new HpackError('invalid Huffman padding (longer than 7 bits or not all 1s)');
  return o;
}

/** Decodes a Huffman-coded string literal; throws HpackError on bad padding or an EOS symbol. */
export function huffmanDecode(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(huffmanMaxDecodedLength(bytes.length));
  return out.subarray(0, huffmanDecodeInto(bytes, 0, bytes.length, out, 0));
}

/** The length in octets of the Huffman coding of bytes, so an encoder can pick the shorter form. */
export function huffmanEncodedLength(bytes: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) bits += LENGTHS[bytes[i]!]!;
  return Math.ceil(bits / 8);
}

/** Huffman-codes bytes, padding the last octet with 1s (the EOS prefix). */
export function huffmanEncode(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(huffmanEncodedLength(bytes));
  // acc holds pending bits (fewer than 8 between symbols); with a 30-bit code that is at most 37 bits, so it
  // is kept as a plain number with arithmetic rather than 32-bit bit operations.
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const symbol = bytes[i]!;
    const len = LENGTHS[symbol]!;
    acc = acc * 2 ** len + CODES[symbol]!;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      const scale = 2 ** bits;
      const byte = Math.floor(acc / scale);
      out[o++] = byte;
      acc -= byte * scale;
    }
  }
  if (bits > 0) out[o++] = (acc << (8 - bits)) | (0xff >>> bits);
  return out;
}
