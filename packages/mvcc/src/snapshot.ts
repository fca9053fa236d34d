import { invariant } from '@k8ts/base';
import { copyBytes, toKeyString } from './bytes.js';
import type { Change } from './change_log.js';
import { crc32 } from './crc32.js';
import { tombstoneKeyValue, type KeyHistory, type StoredRevision } from './key_history.js';
import { canonicalLeaseId } from './lease_id.js';
import {
  HEADER_BYTES,
  keyBytes,
  LEASE_BYTES,
  revisionBytes,
  SNAPSHOT_FORMAT,
  SNAPSHOT_MAGIC,
  TRAILER_BYTES,
} from './snapshot_layout.js';
import { StoreState, type RevisionKeeper } from './store_state.js';
import type { KeyValue } from './types.js';

/** Raised by restore for bytes that are not a whole, intact snapshot of this format. */
export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

export function snapshotSize(state: StoreState): number {
  return HEADER_BYTES + state.dataBytes + TRAILER_BYTES;
}

/** The whole state in the layout of snapshot_layout.ts: keys ascending, leases by ascending ID. */
export function encodeSnapshot(state: StoreState): Uint8Array {
  const encoder = new SnapshotEncoder(state);
  encoder.step(Infinity);
  return encoder.finish();
}

/**
 * The state as it is when made, encoded later a step at a time, so a big state need not be encoded
 * while the store waits. Making one takes constant time (a state of 100,000 keys took ~0.1–0.5 s when
 * it copied each key's revision list up front, every member at the same index): it holds a lazy copy
 * of the key index, and the revision that was current. The store may go on writing between steps
 * without changing what is encoded: writes append revisions past that one, which the encoder leaves
 * out, and compaction hands the encoder a key's revision list before giving the key a new, shorter
 * one (KeyHistory.compact never cuts a list in place). Values are never changed in place. An encoder
 * must be stepped to the end: until then the store keeps compacted lists for it.
 */
export class SnapshotEncoder implements RevisionKeeper {
  private readonly histories: Iterator<KeyHistory>;
  /** Revision lists compaction replaced after this encoder was made, as they were. */
  private readonly kept = new Map<KeyHistory, readonly StoredRevision[]>();
  private readonly revision: number;
  private readonly w: Writer;
  private readonly size: number;
  private done = false;
  private crc = 0;
  private checked = 0;

  /** `reserve`: bytes left free before the snapshot, for the caller to fill (a header of its own). */
  constructor(
    private readonly state: StoreState,
    reserve = 0,
  ) {
    this.size = reserve + snapshotSize(state);
    const w = (this.w = new Writer(this.size));
    w.offset = reserve;
    this.checked = reserve;
    const leases = state.lessor.list();
    const index = state.index.frozen();
    this.histories = index.histories;
    this.revision = state.currentRevision;
    for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) w.u8(SNAPSHOT_MAGIC.charCodeAt(i));
    w.u32(SNAPSHOT_FORMAT);
    w.i64(state.currentRevision);
    w.i64(state.compactRevision);
    w.u32(leases.length);
    w.u32(index.size);
    for (const lease of leases) {
      w.i64big(BigInt(lease.id));
      w.i64(lease.ttl);
    }
    state.keepers.add(this);
  }

  keep(history: KeyHistory): void {
    if (!this.kept.has(history)) this.kept.set(history, history.revisions);
  }

  /** Encodes whole keys until `bytes` more are written or none is left; true once none is left. */
  step(bytes: number): boolean {
    const w = this.w;
    const until = w.offset + bytes;
    while (!this.done && w.offset < until) {
      const next = this.histories.next();
      if (next.done === true) {
        this.done = true;
        this.state.keepers.delete(this);
        this.kept.clear();
        break;
      }
      const history = next.value;
      const revisions = this.kept.get(history) ?? history.revisions;
      // Revisions are in order: those written after this encoder was made are at the end.
      let count = revisions.length;
      while (count > 0 && (revisions[count - 1] as StoredRevision).main > this.revision) count--;
      w.bytes(history.key);
      w.u32(count);
      for (let i = 0; i < count; i++) {
        const r = revisions[i] as StoredRevision;
        w.i64(r.main);
        w.u32(r.sub);
        w.u8(r.tombstone ? 1 : 0);
        if (r.tombstone) continue;
        w.i64(r.kv.createRevision);
        w.i64(r.kv.version);
        w.i64big(BigInt(r.kv.lease));
        w.bytes(r.kv.value);
      }
    }
    this.crc = crc32(w.buffer.subarray(this.checked, w.offset), this.crc);
    this.checked = w.offset;
    return this.done;
  }

  /** The reserved bytes then the snapshot's, once `step` has said every key is written. */
  finish(): Uint8Array {
    invariant(this.done, 'snapshot: finished with keys not written');
    this.w.u32(this.crc);
    invariant(this.w.offset === this.size, () => `snapshot: wrote ${this.w.offset} bytes, the layout says ${this.size}`);
    return this.w.buffer;
  }
}

/** Rebuilds the state a snapshot was taken of: histories, the change log, leases and attachments. */
export function decodeSnapshot(bytes: Uint8Array): StoreState {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) throw new SnapshotFormatError('snapshot: too short');
  const body = bytes.subarray(0, bytes.length - TRAILER_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(body.length) !== crc32(body)) throw new SnapshotFormatError('snapshot: checksum mismatch');
  const r = new Reader(body);
  const magic = String.fromCharCode(...r.take(SNAPSHOT_MAGIC.length));
  if (magic !== SNAPSHOT_MAGIC) throw new SnapshotFormatError('snapshot: not an mvcc snapshot');
  const format = r.u32();
  if (format !== SNAPSHOT_FORMAT) throw new SnapshotFormatError(`snapshot: unknown format ${format}`);

  const state = new StoreState();
  state.currentRevision = r.i64();
  state.compactRevision = r.i64();
  const leaseCount = r.u32();
  const keyCount = r.u32();
  for (let i = 0; i < leaseCount; i++) {
    const id = canonicalLeaseId(r.i64big().toString());
    state.lessor.grant(id, r.i64(), 0);
    state.dataBytes += LEASE_BYTES;
  }
  const changes: Change[] = [];
  for (let i = 0; i < keyCount; i++) {
    const key = r.bytes();
    const keyString = toKeyString(key);
    const history = state.index.ensure(key, keyString);
    state.dataBytes += keyBytes(key);
    const revisionCount = r.u32();
    if (revisionCount === 0) throw new SnapshotFormatError('snapshot: a key without revisions');
    for (let j = 0; j < revisionCount; j++) {
      const main = r.i64();
      const sub = r.u32();
      const tombstone = r.u8() === 1;
      const kv: KeyValue = tombstone ? tombstoneKeyValue(key, main) : readPut(r, key, main);
      const revision: StoredRevision = { main, sub, tombstone, kv };
      history.append(revision);
      state.dataBytes += revisionBytes(revision);
      if (main >= state.compactRevision) changes.push({ history, revision });
    }
    const live = history.current();
    if (live !== undefined && live.lease !== '0') state.lessor.attach(live.lease, keyString);
  }
  if (r.offset !== body.length) throw new SnapshotFormatError('snapshot: trailing bytes');
  changes.sort((a, b) => a.revision.main - b.revision.main || a.revision.sub - b.revision.sub);
  for (const change of changes) state.log.append(change);
  invariant(snapshotSize(state) === bytes.length, 'snapshot: restored size differs from the bytes read');
  return state;
}

function readPut(r: Reader, key: Uint8Array, modRevision: number): KeyValue {
  // Field order is the layout's: createRevision, version, lease, value.
  const createRevision = r.i64();
  const version = r.i64();
  const lease = r.i64big().toString();
  return { key, createRevision, modRevision, version, value: r.bytes(), lease };
}

class Writer {
  readonly buffer: Uint8Array;
  private readonly view: DataView;
  offset = 0;

  constructor(size: number) {
    this.buffer = new Uint8Array(size);
    this.view = new DataView(this.buffer.buffer);
  }

  u8(n: number): void {
    this.view.setUint8(this.offset, n);
    this.offset += 1;
  }

  u32(n: number): void {
    this.view.setUint32(this.offset, n);
    this.offset += 4;
  }

  i64(n: number): void {
    invariant(Number.isSafeInteger(n), () => `snapshot: ${n} is not a safe integer`);
    this.i64big(BigInt(n));
  }

  i64big(n: bigint): void {
    this.view.setBigInt64(this.offset, n);
    this.offset += 8;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.buffer.set(b, this.offset);
    this.offset += b.length;
  }
}

class Reader {
  private readonly view: DataView;
  offset = 0;

  constructor(private readonly buffer: Uint8Array) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.buffer.length) throw new SnapshotFormatError('snapshot: truncated');
    const out = copyBytes(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return out;
  }

  u8(): number {
    return this.take(1)[0] as number;
  }

  u32(): number {
    this.need(4);
    const n = this.view.getUint32(this.offset);
    this.offset += 4;
    return n;
  }

  i64(): number {
    const n = Number(this.i64big());
    if (!Number.isSafeInteger(n)) throw new SnapshotFormatError('snapshot: integer out of range');
    return n;
  }

  i64big(): bigint {
    this.need(8);
    const n = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return n;
  }

  bytes(): Uint8Array {
    return this.take(this.u32());
  }

  private need(length: number): void {
    if (this.offset + length > this.buffer.length) throw new SnapshotFormatError('snapshot: truncated');
  }
}
