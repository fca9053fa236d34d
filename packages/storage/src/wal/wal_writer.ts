import type { HardState } from '@k8ts/raft';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { TEMP_SUFFIX, writeFully, writeFullySync } from '../durable_fs.js';
import { StorageError, invariant } from '../errors.js';
import type { StorageFile, StorageFs } from '../storage_fs.js';
import { WAL_FORMAT_VERSION, WalRecordType, encodeRecord, type WalRecord } from './records.js';
import { segmentFileName, type SegmentId } from './segment_name.js';
import type { SyncThreadGate } from './sync_thread_gate.js';

export interface WalWriterOptions {
  /** A segment is cut once it holds this many bytes; one append never straddles two segments. */
  readonly segmentSizeBytes: number;
  readonly logger: Logger;
  readonly fs: StorageFs;
  /** Called after every fdatasync with its duration and how many records it made durable. */
  readonly onSync?: ((durationMs: number, records: number) => void) | undefined;
  /** Which thread runs each append's fdatasync (default: always libuv's pool, never blocking the loop). */
  readonly syncThread?: SyncThreadGate | undefined;
}

/** One caller's records: written in call order, acknowledged together once durable. */
export interface WalAppend {
  readonly records: readonly WalRecord[];
  /** The log's last index once these records are in (unchanged when undefined). */
  readonly lastIndex?: number | undefined;
  /** The hard state these records leave (unchanged when undefined); every new segment repeats it. */
  readonly hardState?: HardState | undefined;
  /**
   * False: written in order but not synced on its own account — it becomes durable with the next
   * synced append (or is lost in a crash before that). For what a restart can relearn, like a commit
   * index. Default true.
   */
  readonly sync?: boolean | undefined;
}

export interface WalStats {
  readonly appends: number;
  readonly records: number;
  readonly syncs: number;
  readonly bytes: number;
  readonly segments: number;
}

interface PendingAppend {
  readonly frames: Buffer;
  readonly recordCount: number;
  readonly lastIndex: number | undefined;
  readonly hardState: HardState | undefined;
  readonly sync: boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Appends to the newest segment with group commit: appends made while a write+fdatasync is in flight
 * wait in the queue, and the next round writes and syncs all of them at once, so N concurrent callers
 * cost about two syncs, not N. Each append resolves only once its records are durable.
 *
 * Segments are preallocated, as etcd's are: a new segment is extended to its full size (sparsely, by
 * ftruncate: Node has no fallocate) before it is named, so an append does not change the file's size
 * and its fdatasync has no size update to journal. The zeroes after the last record are the clean end
 * of the newest segment; a segment is cut only once its records reach its size, so an older segment
 * has none.
 *
 * After any failed write or sync the writer refuses all further work: once fsync has failed, what the
 * page cache holds is unknown (PostgreSQL's "fsyncgate"), so the only safe move is to restart and
 * recover from disk.
 */
export class WalWriter {
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private lastAppend: Promise<void> = Promise.resolve();
  /** Releases run one at a time: two interleaved ones could leave a gap in the segment sequence. */
  private releasing: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  private closed = false;
  private readonly counters = { appends: 0, records: 0, syncs: 0, bytes: 0 };

  private constructor(
    private readonly dir: string,
    private segments: SegmentId[],
    private handle: StorageFile,
    private sizeBytes: number,
    private lastIndex: number,
    private hardState: HardState,
    private readonly options: WalWriterOptions,
  ) {
    invariant(segments.length > 0, 'a WAL writer needs a segment to write to');
  }

  /** Starts a WAL in an empty directory with its first segment. */
  static async create(dir: string, lastIndex: number, hardState: HardState, options: WalWriterOptions): Promise<WalWriter> {
    const id = { sequence: 0, firstIndex: lastIndex + 1 };
    const { handle, sizeBytes } = await createSegment(options.fs, dir, id, hardState, options.segmentSizeBytes);
    return new WalWriter(dir, [id], handle, sizeBytes, lastIndex, hardState, options);
  }

  /** Continues appending to the newest of `segments` after its first `sizeBytes` (already recovered). */
  static async resume(
    dir: string,
    segments: readonly SegmentId[],
    sizeBytes: number,
    lastIndex: number,
    hardState: HardState,
    options: WalWriterOptions,
  ): Promise<WalWriter> {
    const newest = segments[segments.length - 1];
    invariant(newest !== undefined, 'resuming a WAL without segments');
    const handle = await options.fs.open(join(dir, segmentFileName(newest)), 'r+');
    try {
      // Recovery left it at its records' end or preallocated (zeroes after them); either way it is
      // extended to full size again before anything is appended.
      if (sizeBytes < options.segmentSizeBytes) {
        await handle.truncate(options.segmentSizeBytes);
        await handle.datasync();
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new WalWriter(dir, [...segments], handle, sizeBytes, lastIndex, hardState, options);
  }

  /** Resolves once the records are durable; rejects if the WAL failed or was closed. */
  append(append: WalAppend): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(new StorageError(`WAL failed earlier: ${this.failure.message}`));
    if (this.closed) return Promise.reject(new StorageError('WAL is closed'));
    invariant(append.records.length > 0, 'an append holds at least one record');
    const frames = Buffer.concat(append.records.map(encodeRecord));
    const durable = new Promise<void>((resolve, reject) => {
      this.queue.push({
        frames,
        recordCount: append.records.length,
        lastIndex: append.lastIndex,
        hardState: append.hardState,
        sync: append.sync !== false,
        resolve,
        reject,
      });
      // Start on a microtask so that every append made in the current tick shares the first sync.
      this.flushing ??= Promise.resolve().then(() => this.flushLoop());
    });
    this.lastAppend = durable;
    return durable;
  }

  /** Resolves once every append made so far is durable (appends complete in order). */
  flushed(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(new StorageError(`WAL failed earlier: ${this.failure.message}`));
    return this.lastAppend;
  }

  /**
   * Deletes segments that only hold entries covered by a durable snapshot at `snapshotIndex`: all
   * those before the newest segment whose first index is at or below it. Why that is safe: when that
   * segment was cut, the log ended just before its first index, so any older entry above that index had
   * already been truncated away, and any below it is inside the snapshot. The hard state survives too,
   * since every segment starts by repeating it. Oldest first, so a crash leaves a contiguous suffix.
   */
  releaseTo(snapshotIndex: number): Promise<SegmentId[]> {
    const released = this.releasing.then(() => this.releaseNow(snapshotIndex));
    this.releasing = released.catch(() => undefined);
    return released;
  }

  private async releaseNow(snapshotIndex: number): Promise<SegmentId[]> {
    let keepFrom = -1;
    this.segments.forEach((id, position) => {
      if (id.firstIndex <= snapshotIndex) keepFrom = position;
    });
    if (keepFrom <= 0) return [];
    const released = this.segments.slice(0, keepFrom);
    this.segments = this.segments.slice(keepFrom);
    for (const id of released) await this.options.fs.rm(join(this.dir, segmentFileName(id)));
    await this.options.fs.fsyncDirectory(this.dir);
    this.options.logger.info(
      { released: released.map(segmentFileName), snapshotIndex },
      'released WAL segments covered by a snapshot',
    );
    return released;
  }

  stats(): WalStats {
    return { ...this.counters, segments: this.segments.length };
  }

  segmentIds(): readonly SegmentId[] {
    return this.segments;
  }

  /** Waits for queued appends, then closes the file. Appends after this reject. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== undefined) await this.flushing;
    await this.handle.close();
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.writeBatch(batch);
        } catch (error) {
          this.fail(error instanceof Error ? error : new Error(String(error)), batch);
          return;
        }
        for (const pending of batch) pending.resolve();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeBatch(batch: readonly PendingAppend[]): Promise<void> {
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    let chunkRecords = 0;
    for (const pending of batch) {
      if (this.sizeBytes + chunkBytes >= this.options.segmentSizeBytes) {
        await this.writeAndSync(chunk, chunkRecords);
        chunk = [];
        chunkBytes = 0;
        chunkRecords = 0;
        await this.cut();
      }
      chunk.push(pending.frames);
      chunkBytes += pending.frames.length;
      chunkRecords += pending.recordCount;
      if (pending.lastIndex !== undefined) this.lastIndex = pending.lastIndex;
      if (pending.hardState !== undefined) this.hardState = pending.hardState;
    }
    await this.writeAndSync(chunk, chunkRecords, batch.some((pending) => pending.sync));
    this.counters.appends += batch.length;
  }

  private async writeAndSync(chunk: readonly Buffer[], records: number, sync = true): Promise<void> {
    if (chunk.length === 0) return;
    const bytes = chunk.length === 1 ? (chunk[0] as Buffer) : Buffer.concat(chunk);
    writeFullySync(this.handle, bytes, this.sizeBytes);
    this.sizeBytes += bytes.length;
    if (!sync) return;
    const started = performance.now();
    if (this.options.syncThread?.onCallingThread() === true) this.handle.datasyncSync();
    else await this.handle.datasync();
    const durationMs = performance.now() - started;
    this.options.syncThread?.synced(durationMs, records);
    this.counters.syncs += 1;
    this.counters.records += records;
    this.counters.bytes += bytes.length;
    try {
      this.options.onSync?.(durationMs, records);
    } catch (error) {
      // A metrics hook must not take the WAL down with it.
      this.options.logger.warn({ err: error }, 'onSync hook threw');
    }
  }

  /** Everything written so far is durable (the caller synced); start the next segment. */
  private async cut(): Promise<void> {
    const previous = this.segments[this.segments.length - 1];
    invariant(previous !== undefined, 'cutting a WAL without segments');
    const id = { sequence: previous.sequence + 1, firstIndex: this.lastIndex + 1 };
    // Recovery reads an older segment as records only: its preallocated zeroes must all be written over.
    invariant(this.sizeBytes >= this.options.segmentSizeBytes, 'cutting a WAL segment before it is full');
    const { handle, sizeBytes } = await createSegment(this.options.fs, this.dir, id, this.hardState, this.options.segmentSizeBytes);
    await this.handle.close();
    this.handle = handle;
    this.sizeBytes = sizeBytes;
    this.segments.push(id);
    this.options.logger.debug({ segment: segmentFileName(id) }, 'cut a new WAL segment');
  }

  private fail(error: Error, batch: readonly PendingAppend[]): void {
    this.failure = error;
    this.options.logger.error({ err: error }, 'WAL write failed; refusing all further writes');
    const waiting = [...batch, ...this.queue];
    this.queue = [];
    for (const pending of waiting) pending.reject(error);
  }
}

/**
 * A new segment gets its header and the current hard state under a temporary name, is extended to
 * `segmentSizeBytes` and synced, and only then renamed into place (and the directory synced): a
 * segment with a real name always has a header and its full size.
 */
async function createSegment(
  fs: StorageFs,
  dir: string,
  id: SegmentId,
  hardState: HardState,
  segmentSizeBytes: number,
): Promise<{ handle: StorageFile; sizeBytes: number }> {
  const name = segmentFileName(id);
  const temporary = join(dir, name + TEMP_SUFFIX);
  const head = Buffer.concat([
    encodeRecord({ type: WalRecordType.SegmentHeader, header: { version: WAL_FORMAT_VERSION, ...id } }),
    encodeRecord({ type: WalRecordType.HardState, hardState }),
  ]);
  const handle = await fs.open(temporary, 'wx');
  try {
    await writeFully(handle, head, 0);
    if (head.length < segmentSizeBytes) await handle.truncate(segmentSizeBytes);
    await handle.sync();
    await fs.rename(temporary, join(dir, name));
    await fs.fsyncDirectory(dir);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return { handle, sizeBytes: head.length };
}
