/**
 * Reads a container's CRI log for `kubectl logs`, as the kubelet's log reader does: records are turned
 * back into the container's output (`F` records end their line, `P` records do not), optionally
 * prefixed with their RFC3339Nano timestamp at each line's start (`--timestamps`).
 *
 * The promise:
 * - The rotated files of the log (`<path>.<YYYYMMDD-HHMMSS>`) are read before it, oldest first, so
 *   `--tail` and a full read see every record still kept (upstream reads only the current file).
 * - `tailLines` counts records from the end, as upstream does (a line over 16 KiB is several records);
 *   `sinceNanos` skips records written before it; `limitBytes` cuts the output at that many bytes
 *   (timestamps included) and ends the read, following or not.
 * - `follow` keeps reading as the file grows, moves to the new file when the log is rotated (after
 *   draining the old one), and ends when `stillWriting()` says no and everything is read, or on abort.
 * - Memory is bounded: files are read in blocks, output comes in chunks of at most `chunkBytes`, and a
 *   generator only reads on when its consumer asks for the next chunk (back-pressure).
 * - A line that is not a CRI record is skipped, as upstream does.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { formatRfc3339Nano, listRotated, parseRecord, type LogStream } from './cri_log_format.js';

export interface ReadLogOptions {
  readonly tailLines?: number;
  /** Nanoseconds since the epoch: records written earlier are skipped. */
  readonly sinceNanos?: bigint;
  readonly timestamps?: boolean;
  readonly limitBytes?: number;
  readonly follow?: boolean;
  /** For `follow`: whether the container may still write; once false, the read ends when drained. */
  readonly stillWriting?: () => boolean | Promise<boolean>;
  readonly signal?: AbortSignal;
  /** The largest chunk yielded (default 32 KiB). */
  readonly chunkBytes?: number;
  /** For `follow`: how often the file is looked at when no change is reported (default 1 s). */
  readonly recheckMs?: number;
}

const BLOCK_BYTES = 64 * 1024;
/** A "line" longer than this is not a CRI record (those are at most 16 KiB plus a header): it is skipped. */
const MAX_RECORD_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** The container's output from the log at `path` (and its rotated files), in chunks. */
export async function* readCriLog(path: string, options: ReadLogOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const output = new OutputFormatter(options);
  const files = [...listRotated(path), path];
  let start = { file: 0, offset: 0 };
  if (options.tailLines !== undefined) start = await findTailStart(files, Math.max(0, options.tailLines));
  const changes = options.follow ? new FileChanges(path) : undefined;
  try {
    for (let index = start.file; index < files.length; index++) {
      const file = files[index] as string;
      const following = changes !== undefined && index === files.length - 1;
      const reader = await LogFileReader.open(file, index === start.file ? start.offset : 0);
      if (reader === undefined) {
        if (!following) continue;
        // The current file is not written yet: follow it from its creation.
        yield* followFile(path, undefined, output, changes, options);
        return;
      }
      try {
        yield* drain(reader, output);
        if (output.done) return;
        if (following) {
          yield* followFile(path, reader, output, changes, options);
          return;
        }
      } finally {
        await reader.close();
      }
    }
  } finally {
    changes?.close();
  }
}

/** Reads the current log as it grows (and across rotations) until the container stops writing. */
async function* followFile(
  path: string,
  initial: LogFileReader | undefined,
  output: OutputFormatter,
  changes: FileChanges,
  options: ReadLogOptions,
): AsyncGenerator<Buffer, void, undefined> {
  let reader = initial;
  try {
    for (;;) {
      if (options.signal?.aborted) return;
      const writing = (await options.stillWriting?.()) ?? true;
      // Read what there is; move on file by file if the log was rotated under us.
      for (;;) {
        if (reader !== undefined) {
          yield* drain(reader, output);
          if (output.done) return;
        }
        const next = await openNextFile(path, reader);
        if (next === undefined) break;
        if (reader !== undefined) {
          // Anything written to the old file before its rename is read first.
          yield* drain(reader, output);
          if (reader !== initial) await reader.close();
          if (output.done) {
            await next.close();
            return;
          }
        }
        reader = next;
      }
      if (!writing) return;
      await changes.next(options.recheckMs ?? 1000, options.signal);
    }
  } finally {
    if (reader !== undefined && reader !== initial) await reader.close();
  }
}

/**
 * The file that follows `current` in the log: the next rotated one (several rotations may have
 * happened between two looks), else the log itself when it is another file than `current`;
 * undefined while `current` is still the log (or the log is not created yet).
 */
async function openNextFile(path: string, current: LogFileReader | undefined): Promise<LogFileReader | undefined> {
  if (current === undefined) return LogFileReader.open(path, 0);
  if (!(await current.replacedBy(path))) return undefined;
  const rotated = listRotated(path);
  const inodes = await Promise.all(rotated.map((file) => stat(file).then((found) => found.ino, () => undefined)));
  const at = inodes.indexOf(current.inode);
  for (const file of at < 0 ? [] : rotated.slice(at + 1)) {
    const next = await LogFileReader.open(file, 0);
    if (next !== undefined) return next;
  }
  return LogFileReader.open(path, 0);
}

async function* drain(reader: LogFileReader, output: OutputFormatter): AsyncGenerator<Buffer, void, undefined> {
  for (;;) {
    const records = await reader.readRecords();
    if (records === undefined) break;
    for (const record of records) {
      output.add(record);
      if (output.full || output.done) {
        const chunk = output.take();
        if (chunk !== undefined) yield chunk;
        if (output.done) return;
      }
    }
  }
  const chunk = output.take();
  if (chunk !== undefined) yield chunk;
}

/** Turns records into output: timestamps at line starts, the since filter, the byte limit, chunking. */
class OutputFormatter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writtenBytes = 0;
  private readonly atLineStart: Record<LogStream, boolean> = { stdout: true, stderr: true };
  done = false;

  constructor(private readonly options: ReadLogOptions) {}

  get full(): boolean {
    return this.pendingBytes >= (this.options.chunkBytes ?? 32 * 1024);
  }

  add(line: Buffer): void {
    if (this.done) return;
    const record = parseRecord(line);
    if (record === undefined) return;
    if (this.options.sinceNanos !== undefined && record.timestampNanos < this.options.sinceNanos) return;
    if (this.options.timestamps && this.atLineStart[record.stream]) this.push(Buffer.from(`${formatRfc3339Nano(record.timestampNanos)} `));
    this.push(record.content);
    if (!record.partial) this.push(Buffer.from('\n'));
    this.atLineStart[record.stream] = !record.partial;
  }

  take(): Buffer | undefined {
    if (this.pendingBytes === 0) return undefined;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return chunk;
  }

  private push(bytes: Buffer): void {
    if (this.done || bytes.length === 0) return;
    const limit = this.options.limitBytes;
    let kept = bytes;
    if (limit !== undefined && this.writtenBytes + bytes.length >= limit) {
      kept = bytes.subarray(0, limit - this.writtenBytes);
      this.done = true;
    }
    this.pending.push(kept);
    this.pendingBytes += kept.length;
    this.writtenBytes += kept.length;
  }
}

/** One log file read forwards in blocks, record by record (an unfinished last line waits). */
class LogFileReader {
  private carry: Buffer = Buffer.alloc(0);
  private skipping = false;

  private constructor(
    private readonly handle: FileHandle,
    private position: number,
    readonly inode: number,
  ) {}

  /** Opens `path` at `offset`; undefined when it does not exist (a rotated file removed meanwhile). */
  static async open(path: string, offset: number): Promise<LogFileReader | undefined> {
    try {
      const handle = await open(path, 'r');
      return new LogFileReader(handle, offset, (await handle.stat()).ino);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** The next complete records (without their newlines); undefined at the end of what is written. */
  async readRecords(): Promise<Buffer[] | undefined> {
    const block = Buffer.allocUnsafe(BLOCK_BYTES);
    const { bytesRead } = await this.handle.read(block, 0, BLOCK_BYTES, this.position);
    if (bytesRead === 0) return undefined;
    this.position += bytesRead;
    const data = this.carry.length === 0 ? block.subarray(0, bytesRead) : Buffer.concat([this.carry, block.subarray(0, bytesRead)]);
    const records: Buffer[] = [];
    let start = 0;
    for (let newline = data.indexOf(NEWLINE); newline >= 0; newline = data.indexOf(NEWLINE, start)) {
      if (!this.skipping) records.push(data.subarray(start, newline));
      this.skipping = false;
      start = newline + 1;
    }
    this.carry = Buffer.from(data.subarray(start));
    if (this.carry.length > MAX_RECORD_BYTES) {
      this.carry = Buffer.alloc(0);
      this.skipping = true;
    }
    return records;
  }

  /** Whether `path` is now another file than this one (the log was rotated). */
  async replacedBy(path: string): Promise<boolean> {
    try {
      return (await stat(path)).ino !== this.inode;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * Where the last `lines` records of the files (concatenated) start: scanning backwards in blocks for
 * the newline before them. Each file ends with a newline (the writer writes whole records).
 */
async function findTailStart(files: readonly string[], lines: number): Promise<{ file: number; offset: number }> {
  let newlines = 0;
  const block = Buffer.allocUnsafe(BLOCK_BYTES);
  for (let index = files.length - 1; index >= 0; index--) {
    let handle: FileHandle;
    try {
      handle = await open(files[index] as string, 'r');
    } catch {
      continue;
    }
    try {
      let end = (await handle.stat()).size;
      while (end > 0) {
        const length = Math.min(BLOCK_BYTES, end);
        await handle.read(block, 0, length, end - length);
        for (let at = length - 1; at >= 0; at--) {
          if (block[at] !== NEWLINE) continue;
          // The first newline met ends the last record; the (lines+1)-th one ends the record before the tail.
          if (newlines === lines) return { file: index, offset: end - length + at + 1 };
          newlines++;
        }
        end -= length;
      }
    } finally {
      await handle.close();
    }
  }
  return { file: 0, offset: 0 };
}

/** Wakes a follower when the log's folder changes (inotify), or after a while in any case. */
class FileChanges {
  private watcher: FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(path: string) {
    const name = basename(path);
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file.startsWith(name)) this.notify();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      // No folder yet, or no inotify: the periodic look still finds the changes.
      this.watcher = undefined;
    }
  }

  /** Resolves at the next change (or one already seen), after `timeoutMs`, or on abort. */
  async next(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.changed || signal?.aborted) {
      this.changed = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
    this.changed = false;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.notify();
  }

  private notify(): void {
    this.changed = true;
    this.wake?.();
  }
}
