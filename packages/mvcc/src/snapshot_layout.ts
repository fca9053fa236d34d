/**
 * The snapshot's byte layout, shared by the encoder and by the store's running size, so that
 * sizeBytes() is exactly the length snapshot() would produce. All integers are big-endian.
 *
 *   header   magic "K8MVCCSN" · format u32 · currentRevision i64 · compactRevision i64 ·
 *            leaseCount u32 · keyCount u32
 *   lease    id i64 · ttlSeconds i64                               (ascending id)
 *   key      keyLength u32 · key · revisionCount u32 · revisions   (ascending key)
 *   revision main i64 · sub u32 · kind u8 (0 put, 1 tombstone)
 *            put only: createRevision i64 · version i64 · lease i64 · valueLength u32 · value
 *   trailer  crc32 (IEEE) of everything before it, u32
 */
import type { StoredRevision } from './key_history.js';

export const SNAPSHOT_MAGIC = 'K8MVCCSN';
export const SNAPSHOT_FORMAT = 1;

export const HEADER_BYTES = 8 + 4 + 8 + 8 + 4 + 4;
export const TRAILER_BYTES = 4;
export const LEASE_BYTES = 8 + 8;
export const KEY_OVERHEAD_BYTES = 4 + 4;
export const REVISION_OVERHEAD_BYTES = 8 + 4 + 1;
export const PUT_OVERHEAD_BYTES = 8 + 8 + 8 + 4;

export const keyBytes = (key: Uint8Array): number => KEY_OVERHEAD_BYTES + key.length;

export const revisionBytes = (r: StoredRevision): number =>
  REVISION_OVERHEAD_BYTES + (r.tombstone ? 0 : PUT_OVERHEAD_BYTES + r.kv.value.length);
