import type { Entry, HardState, PersistedState, Ready, Snapshot } from '../src/index.js';

/** A simulated disk: what survives a crash. */
export interface Disk {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

export function diskOf(state: PersistedState): Disk {
  return { hardState: state.hardState, snapshot: state.snapshot, entries: [...state.entries] };
}

export function persistedStateOf(disk: Disk): PersistedState {
  return { hardState: disk.hardState, ...(disk.snapshot ? { snapshot: disk.snapshot } : {}), entries: [...disk.entries] };
}

/** Step 1 of a Ready: snapshot, then entries (replacing any suffix from their first index), then hard state. */
export function persistReady(disk: Disk, ready: Ready): void {
  if (ready.snapshot !== undefined) {
    disk.snapshot = ready.snapshot;
    disk.entries = [];
  }
  const first = ready.entries[0];
  if (first !== undefined) disk.entries = [...disk.entries.filter((entry) => entry.index < first.index), ...ready.entries];
  if (ready.hardState !== undefined) disk.hardState = ready.hardState;
}

/** After the application's compaction: the snapshot replaces the entries it covers. */
export function persistSnapshot(disk: Disk, snapshot: Snapshot): void {
  disk.snapshot = snapshot;
  disk.entries = disk.entries.filter((entry) => entry.index > snapshot.meta.index);
}
