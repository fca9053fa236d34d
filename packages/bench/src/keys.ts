/**
 * Keys and values the way etcd's `benchmark` tool shapes them: fixed-size keys chosen from a key
 * space (at random, or in order with `sequential`), fixed-size values. Keys here are printable
 * (the key number in decimal, zero-padded to the key size) so a benchmark's data reads back with
 * etcdctl; the key size must hold the largest key number.
 */

import { seededRandom } from '@k8ts/testkit';

/** A seeded PRNG: the same seed gives the same keys on every store compared. */
export type RandomSource = () => number;
export { seededRandom };

export interface KeySpace {
  readonly keySizeBytes: number;
  readonly keySpaceSize: number;
  readonly sequential: boolean;
}

/** The longest key number in decimal must fit the key size. */
export function checkKeySpace(space: KeySpace): void {
  if (!Number.isInteger(space.keySpaceSize) || space.keySpaceSize < 1) {
    throw new RangeError(`--key-space-size ${space.keySpaceSize} must be a positive integer`);
  }
  const digits = String(space.keySpaceSize - 1).length;
  if (space.keySizeBytes < digits) {
    throw new RangeError(
      `--key-size ${space.keySizeBytes} cannot hold ${space.keySpaceSize} distinct keys (needs ${digits} bytes); raise --key-size or lower --key-space-size`,
    );
  }
}

export function formatKey(keyNumber: number, keySizeBytes: number): Buffer {
  const text = String(keyNumber).padStart(keySizeBytes, '0');
  if (text.length !== keySizeBytes) throw new RangeError(`key ${keyNumber} does not fit ${keySizeBytes} bytes`);
  return Buffer.from(text, 'latin1');
}

/** The n-th key of a run: n modulo the key space when sequential, else uniform at random. */
export class KeyChooser {
  constructor(
    private readonly space: KeySpace,
    private readonly random: RandomSource,
  ) {
    checkKeySpace(space);
  }

  keyNumber(operationIndex: number): number {
    if (this.space.sequential) return operationIndex % this.space.keySpaceSize;
    return Math.floor(this.random() * this.space.keySpaceSize);
  }

  /** The key for an operation and its number (one draw from the PRNG when random). */
  pick(operationIndex: number): { readonly keyNumber: number; readonly key: Buffer } {
    const keyNumber = this.keyNumber(operationIndex);
    return { keyNumber, key: formatKey(keyNumber, this.space.keySizeBytes) };
  }
}

/** A value of `sizeBytes` printable bytes (etcd's benchmark sends a fixed value too). */
export function makeValue(sizeBytes: number, random: RandomSource): Buffer {
  if (!Number.isInteger(sizeBytes) || sizeBytes < 0) throw new RangeError(`--val-size ${sizeBytes} must be a non-negative integer`);
  const value = Buffer.alloc(sizeBytes);
  for (let i = 0; i < sizeBytes; i += 1) value[i] = 0x61 + Math.floor(random() * 26);
  return value;
}

/**
 * The key a watch test writes for its n-th put: the prefix, then n zero-padded so every key of the
 * run has the same size. `parseWatchKey` gives n back (undefined for a key not of this run).
 */
export function watchKey(prefix: string, putIndex: number, putCount: number): Buffer {
  return Buffer.from(`${prefix}${String(putIndex).padStart(String(Math.max(0, putCount - 1)).length, '0')}`, 'latin1');
}

export function parseWatchKey(prefix: string, key: Buffer): number | undefined {
  const text = key.toString('latin1');
  if (!text.startsWith(prefix)) return undefined;
  const digits = text.slice(prefix.length);
  if (!/^[0-9]+$/.test(digits)) return undefined;
  return Number(digits);
}

/** The range_end that makes a range or watch cover every key starting with `prefix`. */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i -= 1) {
    const byte = end[i] ?? 0;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every byte 0xff: to the end of the key space, as etcd's clients do
}
