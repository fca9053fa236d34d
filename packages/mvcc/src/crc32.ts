import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the one zlib and Go's crc32.ChecksumIEEE compute): guards snapshot bytes.
 * zlib's is native, ~10× a table-driven one in JavaScript, and a snapshot of 100 MiB is checksummed
 * while the store waits (a pure function: the purity test allows this one import). `previous`
 * continues a CRC over what came before.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return zlibCrc32(bytes, previous) >>> 0;
}
