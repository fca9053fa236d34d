import { invariant } from '@k8ts/base';
import { EMPTY_BYTES } from './bytes.js';
import type { KeyValue } from './types.js';

/**
 * One stored version of a key at revision (main, sub): sub orders the writes of one revision (a txn).
 * A tombstone's kv is etcd's: the key, the deleting revision as modRevision, everything else zero.
 */
export interface StoredRevision {
  readonly main: number;
  readonly sub: number;
  readonly tombstone: boolean;
  readonly kv: KeyValue;
}

/** etcd's tombstone record: the key, and the deleting revision as modRevision. */
export function tombstoneKeyValue(key: Uint8Array, revision: number): KeyValue {
  return { key, createRevision: 0, modRevision: revision, version: 0, value: EMPTY_BYTES, lease: '0' };
}

/**
 * Everything kept about one key, oldest first: etcd's keyIndex flattened. etcd groups revisions into
 * generations (create … tombstone); here a put's kv already carries its generation's createRevision
 * and version, so a plain ordered list answers the same questions.
 */
export class KeyHistory {
  /** Appended to in place; never cut in place (a snapshot being encoded may hold this list). */
  revisions: StoredRevision[] = [];

  constructor(
    readonly key: Uint8Array,
    readonly keyString: string,
  ) {}

  /** The newest stored revision, tombstone or not. */
  latest(): StoredRevision | undefined {
    return this.revisions[this.revisions.length - 1];
  }

  /** The value live at `atRevision`, or undefined when the key did not exist then. */
  get(atRevision: number): KeyValue | undefined {
    const i = this.lastIndexAtOrBefore(atRevision);
    const r = i < 0 ? undefined : this.revisions[i];
    return r === undefined || r.tombstone ? undefined : r.kv;
  }

  /** The value live now. */
  current(): KeyValue | undefined {
    const r = this.latest();
    return r === undefined || r.tombstone ? undefined : r.kv;
  }

  append(r: StoredRevision): void {
    const last = this.latest();
    invariant(
      last === undefined || r.main > last.main || (r.main === last.main && r.sub > last.sub),
      () => `key history: revision ${r.main}.${r.sub} is not after ${last?.main}.${last?.sub}`,
    );
    // A compacted history may start with a tombstone; otherwise only a live key can be deleted.
    invariant(!r.tombstone || last === undefined || !last.tombstone, 'key history: tombstone on a deleted key');
    this.revisions.push(r);
  }

  /**
   * Drops what compaction at `atRevision` makes unreachable, and returns it: every revision older
   * than the newest one at or before `atRevision`, and that one too when it is a tombstone older than
   * `atRevision` (etcd keeps a tombstone at exactly the compaction revision, as its keyIndex does).
   */
  compact(atRevision: number): StoredRevision[] {
    let keepFrom = this.lastIndexAtOrBefore(atRevision);
    if (keepFrom < 0) return [];
    const pivot = this.revisions[keepFrom] as StoredRevision;
    if (pivot.tombstone && pivot.main < atRevision) keepFrom++;
    if (keepFrom === 0) return [];
    const dropped = this.revisions.slice(0, keepFrom);
    this.revisions = this.revisions.slice(keepFrom);
    return dropped;
  }

  isEmpty(): boolean {
    return this.revisions.length === 0;
  }

  /** Binary search: the index of the last revision with main <= atRevision, or -1. */
  private lastIndexAtOrBefore(atRevision: number): number {
    let lo = 0;
    let hi = this.revisions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.revisions[mid] as StoredRevision).main <= atRevision) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }
}
