import { invariant } from '@k8ts/base';
import type { KeyHistory, StoredRevision } from './key_history.js';
import type { Event } from './types.js';

/** One write as watchers see it: which key, and the stored revision it made. */
export interface Change {
  readonly history: KeyHistory;
  readonly revision: StoredRevision;
}

/**
 * Every write since the compaction revision, in (main, sub) order: what etcd's watchable store reads
 * from its key bucket to catch a watcher up. Compaction drops the writes before the compaction
 * revision; every write at or after it is still in the key histories, so the log never outlives them.
 */
export class ChangeLog {
  private changes: Change[] = [];
  /** Dropped entries before this index, kept until enough pile up to be worth one copy. */
  private start = 0;

  get length(): number {
    return this.changes.length - this.start;
  }

  append(change: Change): void {
    const last = this.changes[this.changes.length - 1];
    const r = change.revision;
    invariant(
      last === undefined ||
        r.main > last.revision.main ||
        (r.main === last.revision.main && r.sub > last.revision.sub),
      () => `change log: ${r.main}.${r.sub} appended out of order`,
    );
    this.changes.push(change);
  }

  /** Drops every change with main revision < `revision`. */
  dropBefore(revision: number): void {
    this.start = this.firstIndexAtOrAfter(revision);
    if (this.start > 1024 && this.start * 2 > this.changes.length) {
      this.changes = this.changes.slice(this.start);
      this.start = 0;
    }
  }

  /** Changes with main revision >= `revision`, oldest first. */
  *since(revision: number): IterableIterator<Change> {
    for (let i = this.firstIndexAtOrAfter(revision); i < this.changes.length; i++) {
      yield this.changes[i] as Change;
    }
  }

  private firstIndexAtOrAfter(revision: number): number {
    let lo = this.start;
    let hi = this.changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.changes[mid] as Change).revision.main < revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * The event for a change. prevKv is the key's value at the revision before the change, as etcd's
 * watch server fetches it — absent when that revision is compacted or the key did not exist.
 */
export function toEvent(change: Change, compactRevision: number): Event {
  const { history, revision } = change;
  const before = revision.main - 1;
  const prevKv = before >= compactRevision ? history.get(before) : undefined;
  const type = revision.tombstone ? 'DELETE' : 'PUT';
  return prevKv === undefined ? { type, kv: revision.kv } : { type, kv: revision.kv, prevKv };
}
