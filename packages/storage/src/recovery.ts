import type { Entry, PersistedState, Snapshot } from '@k8ts/raft';
import type { Logger } from 'pino';
import { DecodeError } from './binary.js';
import { RecoveryError } from './errors.js';
import type { SnapshotDirectory } from './snapshot/snapshot_directory.js';
import type { ReplayedLog } from './wal/log_replay.js';

export interface RecoveredState {
  readonly state: PersistedState;
  /** The recovered log's last index: its last entry, or the snapshot's index when no entry follows. */
  readonly lastIndex: number;
}

/**
 * Puts the replayed WAL and the snapshot files together into the state Raft restarts from.
 *
 * A snapshot file is usable when it was acknowledged — the WAL records it, or the durable commit index
 * has reached it (an application snapshot is only ever taken of committed state) — and its CRC holds.
 * A file the WAL never acknowledged (a crash between writing it and the WAL records that go with it)
 * is removed; a damaged one is renamed `*.broken` and the next older one tried. Whatever snapshot is
 * chosen, the WAL must hold every entry after it, or recovery stops: restarting from a log with a hole
 * would silently lose acknowledged writes.
 */
export async function recoverState(
  replayed: ReplayedLog,
  snapshots: SnapshotDirectory,
  logger: Logger,
): Promise<RecoveredState> {
  const snapshot = await newestUsableSnapshot(replayed, snapshots, logger);
  const snapshotIndex = snapshot?.meta.index ?? 0;
  const { firstIndex, hardState } = replayed;
  if (firstIndex !== undefined && firstIndex > snapshotIndex + 1) {
    const base = snapshot === undefined ? 'no usable snapshot' : `the newest usable snapshot is at ${snapshotIndex}`;
    throw new RecoveryError(
      `${base}, but the WAL's log starts at ${firstIndex}: entries ${snapshotIndex + 1}..${firstIndex - 1} are gone`,
    );
  }
  const entries: Entry[] = replayed.entries.filter((entry) => entry.index > snapshotIndex);
  const covered = replayed.entries.find((entry) => entry.index === snapshotIndex);
  if (snapshot !== undefined && covered !== undefined && covered.term !== snapshot.meta.term) {
    throw new RecoveryError(
      `snapshot at ${snapshotIndex} has term ${snapshot.meta.term}, the WAL's entry there has term ${covered.term}`,
    );
  }
  const lastIndex = entries[entries.length - 1]?.index ?? snapshotIndex;
  if (hardState.commit > lastIndex) {
    throw new RecoveryError(`hard state commits ${hardState.commit}, but the recovered log ends at ${lastIndex}`);
  }
  const state: PersistedState = { hardState, entries, ...(snapshot === undefined ? {} : { snapshot }) };
  logger.info(
    { snapshotIndex, firstIndex: entries[0]?.index, lastIndex, hardState },
    'recovered Raft state from the WAL and snapshots',
  );
  return { state, lastIndex };
}

async function newestUsableSnapshot(
  replayed: ReplayedLog,
  snapshots: SnapshotDirectory,
  logger: Logger,
): Promise<Snapshot | undefined> {
  for (const id of await snapshots.list()) {
    const file = snapshots.fileName(id);
    const recorded = replayed.markers.some((marker) => marker.index === id.index && marker.term === id.term);
    if (!recorded && id.index > replayed.hardState.commit) {
      logger.warn({ file, commit: replayed.hardState.commit }, 'removing a snapshot file the WAL never acknowledged');
      await snapshots.remove([id]);
      continue;
    }
    try {
      return await snapshots.read(id);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      logger.warn({ file, reason: error.message }, 'snapshot file is damaged; renamed to *.broken, trying an older one');
      await snapshots.markBroken(id);
    }
  }
  return undefined;
}
