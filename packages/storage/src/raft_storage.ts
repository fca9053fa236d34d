import type { Entry, HardState, PersistedState, Snapshot } from '@k8ts/raft';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { makeDirectoryDurably, removeTemporaryFiles } from './durable_fs.js';
import { RecoveryError, StorageError, invariant } from './errors.js';
import { recoverState } from './recovery.js';
import { SnapshotDirectory } from './snapshot/snapshot_directory.js';
import { nodeFs, type StorageFs } from './storage_fs.js';
import { readWal } from './wal/read_wal.js';
import { WalRecordType, type WalRecord } from './wal/records.js';
import type { SyncThreadGate } from './wal/sync_thread_gate.js';
import { WalWriter, type WalAppend, type WalStats } from './wal/wal_writer.js';

export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_RETAINED_SNAPSHOT_FILES = 3;
const MIN_SEGMENT_SIZE_BYTES = 1024;

export interface RaftStorageOptions {
  /** A WAL segment is cut once it reaches this size (default 64 MiB, etcd's). */
  readonly segmentSizeBytes?: number;
  /** Snapshot files kept after a new one is durable (default 3); older ones are removed. */
  readonly retainedSnapshotFiles?: number;
  /** Defaults to a pino logger on stdout. Every line carries `component: "storage"` and the directory. */
  readonly logger?: Logger;
  /** Called after every fdatasync of the WAL: its duration and how many records it made durable. */
  readonly onSync?: (durationMs: number, records: number) => void;
  /** Which thread runs the WAL's fdatasyncs (default: libuv's pool, always); see wal/sync_thread_gate.ts. */
  readonly syncThread?: SyncThreadGate;
  /** The file system (default node:fs); tests pass a twin that can lose power (testing/power_loss_fs.ts). */
  readonly fs?: StorageFs;
}

/** What one Raft `Ready` asks to persist, in the order it must be applied. */
export interface StorageUpdate {
  /** A snapshot from the leader: it replaces the whole log. */
  readonly snapshot?: Snapshot;
  /** The first entry may replace the stored log from its index on. */
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
  /**
   * False: resolve once written, without waiting for (or causing) an fdatasync; the update becomes
   * durable with the next synced save. Only for what a restart can relearn: a Ready that moved nothing
   * but the commit index (etcd's MustSync is false then). Default true.
   */
  readonly sync?: boolean;
}

/**
 * The durable storage under one Raft member: `dir/wal` holds the write-ahead log (entries, hard
 * states, snapshot markers), `dir/snap` the snapshot files.
 *
 * Promises:
 * - `save` resolves only once everything it was given is on stable storage (fdatasync), and updates
 *   become durable in the order `save` was called; concurrent saves share one sync (group commit).
 * - after a crash, `open` + `load` return every acknowledged update, and nothing of a save that never
 *   resolved beyond what happened to reach the disk whole.
 * - damage that is not a torn final write is reported (`WalCorruptionError`, `RecoveryError`), never
 *   skipped silently.
 * - one process per directory: nothing locks it.
 */
export class RaftStorage {
  private readonly snapshotRetention: number;
  /** The state as of the last call (not the last durable write), to check each call against. */
  private lastIndex: number;
  private snapshotIndex: number;
  private hardState: HardState;
  /** Saves carrying a snapshot write it before their WAL records; later saves queue behind them. */
  private gate: Promise<void> = Promise.resolve();
  private gatedSaves = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly wal: WalWriter,
    private readonly snapshots: SnapshotDirectory,
    private readonly recovered: PersistedState,
    lastIndex: number,
    private readonly logger: Logger,
    options: RaftStorageOptions,
  ) {
    this.snapshotRetention = options.retainedSnapshotFiles ?? DEFAULT_RETAINED_SNAPSHOT_FILES;
    this.lastIndex = lastIndex;
    this.snapshotIndex = recovered.snapshot?.meta.index ?? 0;
    this.hardState = recovered.hardState;
  }

  /** Creates `dir/wal` and `dir/snap` if needed and recovers what they hold. */
  static async open(dir: string, options: RaftStorageOptions = {}): Promise<RaftStorage> {
    const segmentSizeBytes = options.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES;
    invariant(
      Number.isSafeInteger(segmentSizeBytes) && segmentSizeBytes >= MIN_SEGMENT_SIZE_BYTES,
      () => `segmentSizeBytes must be an integer of at least ${MIN_SEGMENT_SIZE_BYTES}, not ${segmentSizeBytes}`,
    );
    const retained = options.retainedSnapshotFiles ?? DEFAULT_RETAINED_SNAPSHOT_FILES;
    invariant(Number.isInteger(retained) && retained >= 1, () => `retainedSnapshotFiles must be ≥ 1, not ${retained}`);
    const logger = (options.logger ?? pino()).child({ component: 'storage', dir });
    const walDir = join(dir, 'wal');
    const snapDir = join(dir, 'snap');
    const fs = options.fs ?? nodeFs;
    await makeDirectoryDurably(fs, walDir);
    await makeDirectoryDurably(fs, snapDir);

    const wal = await readWal(walDir, logger, fs);
    const snapshots = new SnapshotDirectory(snapDir, fs);
    await removeTemporaryFiles(fs, snapDir);
    if (wal.segments.length === 0 && (await snapshots.list()).length > 0) {
      throw new RecoveryError(`${snapDir} holds snapshots but ${walDir} holds no WAL: the log is gone`);
    }
    const { state, lastIndex } = await recoverState(wal.replayed, snapshots, logger);
    const writerOptions = { segmentSizeBytes, logger, fs, onSync: options.onSync, syncThread: options.syncThread };
    const writer =
      wal.segments.length === 0
        ? await WalWriter.create(walDir, lastIndex, state.hardState, writerOptions)
        : await WalWriter.resume(walDir, wal.segments, wal.newestValidBytes, lastIndex, state.hardState, writerOptions);
    return new RaftStorage(writer, snapshots, state, lastIndex, logger, options);
  }

  /** What recovery found at `open`: hard state, newest usable snapshot, the entries after it. */
  load(): PersistedState {
    return this.recovered;
  }

  /**
   * Persists one Ready's snapshot (the file first, then a marker in the WAL), entries and hard state;
   * resolves once they — and every earlier save — are durable. Call it again without waiting: calls
   * are written in call order and synced together. An update with nothing in it writes nothing and
   * resolves once the saves before it are durable.
   */
  save(update: StorageUpdate): Promise<void> {
    return this.track(this.saveInOrder(update));
  }

  private async saveInOrder(update: StorageUpdate): Promise<void> {
    const append = this.prepare(update);
    const snapshot = update.snapshot;
    if (snapshot === undefined && this.gatedSaves === 0) {
      await (append === undefined ? this.wal.flushed() : this.wal.append(append));
      return;
    }
    this.gatedSaves += 1;
    const turn = this.gate;
    let done!: () => void;
    this.gate = new Promise<void>((resolve) => (done = resolve));
    let durable: Promise<void>;
    try {
      await turn;
      if (this.failure !== undefined) throw this.failedError();
      if (snapshot !== undefined) await this.writeSnapshotFile(snapshot);
      durable = append === undefined ? this.wal.flushed() : this.wal.append(append);
    } finally {
      this.gatedSaves -= 1;
      done();
    }
    await durable;
    if (snapshot !== undefined) await this.afterSnapshotDurable(snapshot);
  }

  /**
   * The application's own snapshot at an applied (so committed) index: written atomically to `snap`,
   * recorded in the WAL, then WAL segments and snapshot files it makes unnecessary are removed. Entries
   * after the snapshot's index stay in the log.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.track(this.compactTo(snapshot));
  }

  private async compactTo(snapshot: Snapshot): Promise<void> {
    this.assertUsable();
    const { index, term } = snapshot.meta;
    invariant(index > this.snapshotIndex, () => `snapshot at ${index} is not newer than the one at ${this.snapshotIndex}`);
    invariant(index <= this.hardState.commit, () => `snapshot at ${index} is beyond the commit index ${this.hardState.commit}`);
    invariant(index <= this.lastIndex, () => `snapshot at ${index} is beyond the log's last index ${this.lastIndex}`);
    this.snapshotIndex = index;
    // Saves called before this one may still wait their turn behind a snapshot save (the gate); the
    // marker must not reach the WAL before their records, or a crash could recover this snapshot with
    // an older hard state than the one it was taken under (a commit index, even a term, below it).
    const earlierSaves = this.gatedSaves > 0 ? this.gate : undefined;
    await this.writeSnapshotFile(snapshot);
    await earlierSaves;
    await this.wal.append({ records: [{ type: WalRecordType.Snapshot, marker: { index, term, resetsLog: false } }] });
    await this.afterSnapshotDurable(snapshot);
  }

  stats(): WalStats {
    return this.wal.stats();
  }

  /** Waits for saves and snapshots already under way, then closes. Later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.wal.close();
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /**
   * Checks the update against the state of earlier calls and turns it into WAL records; undefined when
   * there is nothing to write (the save then just waits for the saves before it).
   */
  private prepare(update: StorageUpdate): WalAppend | undefined {
    this.assertUsable();
    const records: WalRecord[] = [];
    let lastIndex = this.lastIndex;
    const { snapshot, entries, hardState } = update;
    if (snapshot !== undefined) {
      const { index, term } = snapshot.meta;
      invariant(index > this.snapshotIndex, () => `installed snapshot at ${index} is not newer than ${this.snapshotIndex}`);
      records.push({ type: WalRecordType.Snapshot, marker: { index, term, resetsLog: true } });
      lastIndex = index;
    }
    const snapshotIndex = snapshot?.meta.index ?? this.snapshotIndex;
    entries.forEach((entry, position) => {
      if (position === 0) {
        invariant(
          entry.index > snapshotIndex && entry.index <= lastIndex + 1,
          () => `first entry ${entry.index} must lie in (${snapshotIndex}, ${lastIndex + 1}]`,
        );
      } else {
        invariant(entry.index === lastIndex + 1, () => `entries jump from ${lastIndex} to ${entry.index}`);
      }
      records.push({ type: WalRecordType.Entry, entry });
      lastIndex = entry.index;
    });
    if (hardState !== undefined) {
      const previous = this.hardState;
      invariant(
        hardState.term >= previous.term && hardState.commit >= previous.commit,
        () => `hard state goes back from ${JSON.stringify(previous)} to ${JSON.stringify(hardState)}`,
      );
      invariant(hardState.commit <= lastIndex, () => `commit ${hardState.commit} is beyond the last index ${lastIndex}`);
      records.push({ type: WalRecordType.HardState, hardState });
    }
    // Only now, with every check passed, does the call change what later calls are checked against.
    this.lastIndex = lastIndex;
    this.snapshotIndex = snapshotIndex;
    if (hardState !== undefined) this.hardState = hardState;
    if (records.length === 0) return undefined;
    return { records, lastIndex: entries.length > 0 || snapshot !== undefined ? lastIndex : undefined, hardState, sync: update.sync !== false || snapshot !== undefined || entries.length > 0 };
  }

  private async writeSnapshotFile(snapshot: Snapshot): Promise<void> {
    try {
      await this.snapshots.write(snapshot);
    } catch (error) {
      // Later saves may already build on this snapshot; without it they must not reach the WAL.
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.logger.error({ err: this.failure, index: snapshot.meta.index }, 'writing a snapshot file failed');
      throw error;
    }
  }

  private async afterSnapshotDurable(snapshot: Snapshot): Promise<void> {
    const { index, term } = snapshot.meta;
    await this.wal.releaseTo(index);
    const removed = await this.snapshots.retainNewest(this.snapshotRetention, index);
    this.logger.info(
      { index, term, removedSnapshots: removed.map((id) => this.snapshots.fileName(id)) },
      'snapshot is durable',
    );
  }

  private assertUsable(): void {
    if (this.closed) throw new StorageError('storage is closed');
    if (this.failure !== undefined) throw this.failedError();
  }

  private failedError(): StorageError {
    return new StorageError(`storage failed earlier: ${this.failure?.message ?? 'unknown'}`);
  }
}
