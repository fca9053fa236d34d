// The package has no "exports" map, so Node's ESM resolver needs the file extension here.
import CRC32C from 'crc-32/crc32c.js';

/** CRC-32C (Castagnoli), as an unsigned 32-bit number (the library returns a signed one). */
export function crc32c(bytes: Uint8Array): number {
  return CRC32C.buf(bytes) >>> 0;
}
