import { invariant } from '@k8ts/base';
import { EMPTY_MEMBERSHIP, decodeMembership } from './membership.js';
import { EntryType, type Entry, type Membership, type PersistedState, type Snapshot } from './types.js';

/** An entry's size for flow control: its data plus what its index, term and type take on the wire. */
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + 16;
}

const EMPTY_SNAPSHOT: Snapshot = { meta: { index: 0, term: 0, membership: EMPTY_MEMBERSHIP }, data: new Uint8Array() };

interface MembershipAt {
  readonly index: number;
  readonly membership: Membership;
}

/**
 * One node's log: a snapshot, the entries after it, and the indexes that track them.
 *
 *   snapshot.index < applied <= committed <= lastIndex, and persisted <= lastIndex
 *
 * Entries are immutable once created; the same objects travel in messages.
 * The membership in force is the newest membership entry in the log, committed or not
 * (Raft dissertation §4.1), so the history of membership entries is kept to undo a truncation.
 */
export class RaftLog {
  snapshot: Snapshot;
  /** A snapshot received from the leader, to persist and restore (reported in the next Ready). */
  pendingSnapshot: Snapshot | undefined;
  private entries: Entry[];
  /** Highest index known durable on this node's storage. */
  persisted: number;
  committed: number;
  applied: number;
  /** Membership as of the snapshot, then one element per membership entry in the log. */
  private memberships: MembershipAt[];

  constructor(state: PersistedState) {
    this.snapshot = state.snapshot ?? EMPTY_SNAPSHOT;
    const first = this.snapshot.meta.index + 1;
    this.entries = state.entries.filter((entry) => entry.index >= first);
    this.entries.forEach((entry, i) =>
      invariant(entry.index === first + i, () => `persisted log has a gap at index ${first + i}`),
    );
    this.persisted = this.lastIndex();
    this.applied = this.snapshot.meta.index;
    this.committed = Math.max(state.hardState.commit, this.snapshot.meta.index);
    invariant(
      this.committed <= this.lastIndex(),
      () => `persisted commit ${this.committed} is beyond the persisted log's last index ${this.lastIndex()}`,
    );
    this.memberships = [{ index: this.snapshot.meta.index, membership: this.snapshot.meta.membership }];
    for (const entry of this.entries) this.noteMembership(entry);
  }

  firstIndex(): number {
    return this.snapshot.meta.index + 1;
  }

  lastIndex(): number {
    return this.snapshot.meta.index + this.entries.length;
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    invariant(term !== undefined, 'last entry has no term');
    return term;
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or not yet there. */
  term(index: number): number | undefined {
    const { meta } = this.snapshot;
    if (index === meta.index) return meta.term;
    if (index < meta.index || index > this.lastIndex()) return undefined;
    return this.entryAt(index).term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  entryAt(index: number): Entry {
    const entry = this.entries[index - this.firstIndex()];
    invariant(entry !== undefined && entry.index === index, () => `no entry at index ${index}`);
    return entry;
  }

  /** Entries in [lo, hi), at least one if any, and no more than `maxBytes` beyond the first. */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = lo; index < Math.min(hi, this.lastIndex() + 1); index++) {
      const entry = this.entryAt(index);
      bytes += entrySizeBytes(entry);
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  membership(): Membership {
    const last = this.memberships[this.memberships.length - 1];
    invariant(last !== undefined, 'membership history is empty');
    return last.membership;
  }

  /** Index of the entry that set the membership in force (the snapshot's index if none since). */
  membershipIndex(): number {
    return this.memberships[this.memberships.length - 1]?.index ?? 0;
  }

  membershipAt(index: number): Membership {
    let found: Membership | undefined;
    for (const item of this.memberships) if (item.index <= index) found = item.membership;
    invariant(found !== undefined, () => `no membership known at index ${index}`);
    return found;
  }

  /** Leader path: entries continue the log exactly. */
  append(entries: readonly Entry[]): void {
    for (const entry of entries) {
      invariant(entry.index === this.lastIndex() + 1, () => `append at ${entry.index} after ${this.lastIndex()}`);
      this.entries.push(entry);
      this.noteMembership(entry);
    }
  }

  /**
   * Follower path (AppendEntries receiver, §5.3). Returns the index of the last new entry, or
   * undefined when our log has no entry at prevIndex with prevTerm.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    const conflict = entries.find((entry) => !this.matchTerm(entry.index, entry.term));
    if (conflict !== undefined) {
      invariant(
        conflict.index > this.committed,
        () => `entry ${conflict.index} conflicts with the committed log (committed ${this.committed})`,
      );
      // Past our last entry nothing conflicts: only new entries; truncating there would copy the
      // whole in-memory log for nothing on every append.
      if (conflict.index <= this.lastIndex()) this.truncateFrom(conflict.index);
      this.append(entries.slice(conflict.index - prevIndex - 1));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /**
   * The largest index <= `index` whose term is <= `term`: where two logs may agree, used for
   * fast backtracking in both directions of a rejected append.
   */
  findConflictByTerm(index: number, term: number): number {
    let at = Math.min(index, this.lastIndex());
    while (at > this.snapshot.meta.index) {
      const atTerm = this.term(at);
      if (atTerm !== undefined && atTerm <= term) return at;
      at--;
    }
    return this.snapshot.meta.index;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    invariant(index <= this.lastIndex(), () => `commit ${index} is beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(Math.max(0, this.persisted + 1 - this.firstIndex()));
  }

  /** Committed entries not yet applied (after any pending snapshot, which comes first). */
  committedToApply(): Entry[] {
    const from = Math.max(this.applied + 1, this.firstIndex());
    return this.slice(from, this.committed + 1) ?? [];
  }

  stableTo(index: number): void {
    invariant(index <= this.lastIndex(), () => `persisted ${index} beyond last index ${this.lastIndex()}`);
    this.persisted = Math.max(this.persisted, index);
  }

  appliedTo(index: number): void {
    invariant(
      index <= this.committed && index >= this.applied,
      () => `applied ${index} outside [${this.applied}, ${this.committed}]`,
    );
    this.applied = index;
  }

  /** Replace everything with a snapshot from the leader (InstallSnapshot receiver). */
  restore(snapshot: Snapshot): void {
    invariant(snapshot.meta.index > this.committed, 'restoring a snapshot older than the commit index');
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.entries = [];
    this.committed = snapshot.meta.index;
    this.persisted = Math.min(this.persisted, snapshot.meta.index);
    this.memberships = [{ index: snapshot.meta.index, membership: snapshot.meta.membership }];
  }

  /** The pending snapshot is durable and restored into the state machine. */
  snapshotRestored(): void {
    const pending = this.pendingSnapshot;
    invariant(pending !== undefined, 'no pending snapshot');
    this.pendingSnapshot = undefined;
    this.persisted = Math.max(this.persisted, pending.meta.index);
    this.applied = Math.max(this.applied, pending.meta.index);
  }

  /** Log compaction: the application's snapshot at `index` replaces the entries up to it. */
  compact(index: number, data: Uint8Array): void {
    invariant(index <= this.applied, () => `compacting at ${index} beyond applied ${this.applied}`);
    invariant(index > this.snapshot.meta.index, () => `compacting at ${index}, already compacted to it`);
    const term = this.term(index);
    invariant(term !== undefined, () => `no term for compaction index ${index}`);
    const membership = this.membershipAt(index);
    this.entries = this.entries.slice(index - this.firstIndex() + 1);
    this.snapshot = { meta: { index, term, membership }, data };
    this.memberships = [{ index, membership }, ...this.memberships.filter((item) => item.index > index)];
  }

  private truncateFrom(index: number): void {
    this.entries = this.entries.slice(0, index - this.firstIndex());
    this.persisted = Math.min(this.persisted, index - 1);
    this.memberships = this.memberships.filter((item, i) => i === 0 || item.index < index);
  }

  private noteMembership(entry: Entry): void {
    if (entry.type === EntryType.Membership) {
      this.memberships.push({ index: entry.index, membership: decodeMembership(entry.data) });
    }
  }
}
