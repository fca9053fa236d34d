// The package has no "exports" map, so Node's ESM resolver needs the file extension here.
import CRC32C from 'crc-32/crc32c.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** CRC-32C (Castagnoli), as an unsigned 32-bit number (the library returns a signed one). */
export function crc32c(bytes: Uint8Array): number {
  return CRC32C.buf(bytes) >>> 0;
}

/** A slice of CRC work short enough not to hold up the event loop (~5 ms here). */
const SLICE_BYTES = 4 * 1024 * 1024;

/**
 * The same CRC, computed a slice at a time with a turn of the event loop between slices: a
 * snapshot of 100 MiB would otherwise hold the process (and its Raft loop) for a third of a second.
 */
export async function crc32cInSlices(parts: readonly Uint8Array[]): Promise<number> {
  let crc = 0;
  for (const part of parts) {
    for (let at = 0; at < part.length; at += SLICE_BYTES) {
      if (at > 0) await nextTurn();
      crc = CRC32C.buf(part.subarray(at, at + SLICE_BYTES), crc);
    }
  }
  return crc >>> 0;
}
