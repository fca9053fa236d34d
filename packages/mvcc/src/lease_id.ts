import type { LeaseId } from './types.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Lease IDs arrive as decimal strings of int64s (they exceed 2^53). Every member must store the same
 * text for the same ID, so IDs are canonicalized ("007" → "7"); anything that is not an int64 is a
 * caller bug, not an etcd error.
 */
export function canonicalLeaseId(id: LeaseId | undefined): LeaseId {
  if (id === undefined || id === '') return '0';
  if (!/^-?[0-9]+$/.test(id)) throw new TypeError(`lease ID ${JSON.stringify(id)} is not a decimal int64`);
  const value = BigInt(id);
  if (value < INT64_MIN || value > INT64_MAX) throw new TypeError(`lease ID ${id} is outside int64`);
  return value.toString();
}

/** Numeric order of two canonical IDs, as etcd compares them (int64). */
export function compareLeaseIds(a: LeaseId, b: LeaseId): number {
  if (a === b) return 0;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
