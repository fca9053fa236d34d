import type { DurableRaftLog } from '../driver/raft_node.js';
import type { Entry, HardState, PersistedState, Snapshot } from '../src/index.js';
import type { LogView } from './checker.js';

/** A simulated disk: what survives a crash. */
export interface Disk {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

/** One write of a Ready, as the driver hands it to storage. */
export interface SavedBatch {
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
}

export function diskOf(state: PersistedState): Disk {
  return { hardState: state.hardState, snapshot: state.snapshot, entries: [...state.entries] };
}

export function persistedStateOf(disk: Disk): PersistedState {
  return { hardState: disk.hardState, ...(disk.snapshot ? { snapshot: disk.snapshot } : {}), entries: [...disk.entries] };
}

/** Step 1 of a Ready: snapshot, then entries (replacing any suffix from their first index), then hard state. */
export function persistReady(disk: Disk, batch: SavedBatch): void {
  if (batch.snapshot !== undefined) {
    disk.snapshot = batch.snapshot;
    disk.entries = [];
  }
  const first = batch.entries[0];
  if (first !== undefined) {
    // In place: the entries on disk are contiguous, so everything from first.index on is replaced.
    const head = disk.entries[0];
    disk.entries.length = head === undefined ? 0 : Math.max(0, Math.min(disk.entries.length, first.index - head.index));
    for (const entry of batch.entries) disk.entries.push(entry);
  }
  if (batch.hardState !== undefined) disk.hardState = batch.hardState;
}

/** After the application's compaction: the snapshot replaces the entries it covers. */
export function persistSnapshot(disk: Disk, snapshot: Snapshot): void {
  disk.snapshot = snapshot;
  disk.entries = disk.entries.filter((entry) => entry.index > snapshot.meta.index);
}

/** The log as it is on disk, for the checker. */
export function diskView(disk: Disk): LogView {
  const snapshotIndex = (): number => disk.snapshot?.meta.index ?? 0;
  return {
    snapshotIndex,
    term: (index) => {
      if (index === snapshotIndex()) return disk.snapshot?.meta.term ?? 0;
      const first = disk.entries[0];
      if (first === undefined) return undefined;
      const entry = disk.entries[index - first.index];
      return entry?.index === index ? entry.term : undefined;
    },
  };
}

/** What a simulated log needs from the simulation. */
export interface DiskIo {
  now(): number;
  at(timeMs: number, run: () => void): void;
  /** A drawn persist latency for one write. */
  latencyMs(): number;
  /** The "ackBeforePersist" mutation: save() resolves at once, long before its write lands. */
  readonly lying: boolean;
  /** A save landed on the disk (the checker sees appends here: they exist once durable). */
  landed(batch: SavedBatch, disk: Disk): void;
}

/**
 * One incarnation's storage over a node's Disk: each write lands after a drawn latency, in order,
 * and resolves then; a crash loses every write not yet landed. A lying disk resolves at once.
 */
export class SimulatedLog implements DurableRaftLog {
  private lastLandsAt = 0;
  private crashed = false;

  constructor(
    private readonly disk: Disk,
    private readonly io: DiskIo,
  ) {}

  save(batch: SavedBatch & { sync?: boolean }): Promise<void> {
    return this.write(() => {
      persistReady(this.disk, batch);
      this.io.landed(batch, this.disk);
    });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.write(() => persistSnapshot(this.disk, snapshot));
  }

  /** The process died: writes not yet landed never will. */
  crash(): void {
    this.crashed = true;
  }

  private write(land: () => void): Promise<void> {
    const landsAt = Math.max(this.io.now() + this.io.latencyMs(), this.lastLandsAt);
    this.lastLandsAt = landsAt;
    return new Promise((resolve) => {
      if (this.io.lying) resolve();
      this.io.at(landsAt, () => {
        if (this.crashed) return;
        land();
        resolve();
      });
    });
  }
}
