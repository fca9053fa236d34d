import type { Entry, HardState } from '@k8ts/raft';
import { WalCorruptionError } from '../errors.js';
import { WalRecordType, type SnapshotMarker, type WalRecord } from './records.js';

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

/** What replaying every record of the WAL, in order, leaves behind. */
export interface ReplayedLog {
  /** The last hard state written (every segment repeats it after its header). */
  readonly hardState: HardState;
  /** The live log, contiguous: later writes of an index replaced it and everything after it. */
  readonly entries: readonly Entry[];
  /**
   * Index of `entries[0]`, or of the next entry when `entries` is empty after a snapshot reset;
   * undefined when the WAL holds neither entries nor a reset.
   */
  readonly firstIndex: number | undefined;
  /** Every snapshot marker, in write order. */
  readonly markers: readonly SnapshotMarker[];
}

/**
 * Replays records into the live log. The WAL is append-only, so truncation happens here: an entry at
 * index i drops whatever the log held from i on. A snapshot marker that resets the log (a snapshot
 * installed from the leader) drops every entry. Checks that hold for any log Raft writes — no gaps,
 * terms never decrease along the log, hard state never goes back — turn into corruption errors.
 */
export class LogReplay {
  private hardState: HardState = EMPTY_HARD_STATE;
  private entries: Entry[] = [];
  private firstIndex: number | undefined;
  /** Entries below this were covered by a snapshot installed from the leader. */
  private floorIndex = 1;
  private readonly markers: SnapshotMarker[] = [];

  apply(record: WalRecord, file: string, offset: number): void {
    switch (record.type) {
      case WalRecordType.SegmentHeader:
        return;
      case WalRecordType.HardState:
        this.applyHardState(record.hardState, file, offset);
        return;
      case WalRecordType.Snapshot:
        this.markers.push(record.marker);
        if (record.marker.resetsLog) {
          this.entries = [];
          this.firstIndex = record.marker.index + 1;
          this.floorIndex = record.marker.index + 1;
        }
        return;
      case WalRecordType.Entry:
        this.applyEntry(record.entry, file, offset);
        return;
    }
  }

  result(): ReplayedLog {
    return { hardState: this.hardState, entries: this.entries, firstIndex: this.firstIndex, markers: this.markers };
  }

  private applyHardState(next: HardState, file: string, offset: number): void {
    const previous = this.hardState;
    if (next.term < previous.term || next.commit < previous.commit) {
      const show = (state: HardState) => `term ${state.term} commit ${state.commit}`;
      throw new WalCorruptionError(file, offset, `hard state went back from ${show(previous)} to ${show(next)}`);
    }
    this.hardState = next;
  }

  private applyEntry(entry: Entry, file: string, offset: number): void {
    const fail = (reason: string) => new WalCorruptionError(file, offset, `entry ${entry.index}: ${reason}`);
    if (entry.index < this.floorIndex) throw fail(`below the installed snapshot (log starts at ${this.floorIndex})`);
    if (this.firstIndex === undefined || entry.index < this.firstIndex) {
      // The first entry seen, or a rewrite reaching back before the oldest segment still kept.
      this.firstIndex = entry.index;
      this.entries = [entry];
      return;
    }
    const nextIndex = this.firstIndex + this.entries.length;
    if (entry.index > nextIndex) throw fail(`leaves a gap after ${nextIndex - 1}`);
    this.entries.length = entry.index - this.firstIndex;
    const previous = this.entries[this.entries.length - 1];
    if (previous !== undefined && previous.term > entry.term) {
      throw fail(`term ${entry.term} is below the previous entry's term ${previous.term}`);
    }
    this.entries.push(entry);
  }
}
