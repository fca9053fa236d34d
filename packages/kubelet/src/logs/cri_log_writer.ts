/**
 * Writes one container's stdout and stderr to its log file in the CRI log format, as containerd does
 * (see cri_log_format.ts), and rotates it by size, as the kubelet's container log manager does
 * (`--container-log-max-size`, `--container-log-max-files`).
 *
 * The promise:
 * - Records are whole lines: a chunk's bytes up to each newline become an `F` record; bytes after the
 *   last newline wait (per stream) for the rest of their line, as containerd's line reader does. A line
 *   longer than 16 KiB is cut into `P` records of 16 KiB. `close()` writes what still waits as a `P` record.
 * - Rotation: before a record would take the file over `maxSizeBytes`, the file is renamed
 *   `<path>.<YYYYMMDD-HHMMSS>` (UTC) and a new one started; the oldest rotated files are removed so
 *   that at most `maxFiles` files (the current one included) remain. Rotated files are not compressed
 *   (upstream gzips all but the newest rotated file; here the reader reads them back for `--tail`).
 * - Writes are synchronous appends: the order of records is the order of `write` calls, memory holds at
 *   most one partial line per stream, and a slow disk slows the caller (back-pressure on the pipe it
 *   reads) instead of growing a queue.
 * - `write` never throws: a disk error is logged (the first of a kind), the records are dropped and
 *   counted (`stats()`), and the next write tries to open the file again.
 * - Creating the log's folder is the writer's job.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { invariant } from '@k8ts/base';
import { MAX_LINE_BYTES, dateToNanos, formatRfc3339Nano, listRotated, nextRotatedPath, nowNanos, type LogStream } from './cri_log_format.js';

export interface CriLogWriterOptions {
  readonly maxSizeBytes: number;
  /** Files kept for the container: the current one and `maxFiles - 1` rotated ones (upstream: at least 2). */
  readonly maxFiles: number;
  readonly logger?: Logger;
}

export interface CriLogWriterStats {
  readonly writtenBytes: number;
  readonly droppedBytes: number;
  readonly droppedRecords: number;
  readonly writeErrors: number;
  readonly rotations: number;
}

const NEWLINE = 0x0a;

export class CriLogWriter {
  private fd: number | undefined;
  private sizeBytes = 0;
  private closed = false;
  private readonly waiting: Record<LogStream, Buffer | undefined> = { stdout: undefined, stderr: undefined };
  private readonly reported = new Set<string>();
  private counters = { writtenBytes: 0, droppedBytes: 0, droppedRecords: 0, writeErrors: 0, rotations: 0 };

  constructor(
    readonly path: string,
    private readonly options: CriLogWriterOptions,
  ) {
    invariant(options.maxSizeBytes > 0, `maxSizeBytes must be positive, got ${options.maxSizeBytes}`);
    invariant(options.maxFiles >= 2, `maxFiles must be at least 2, got ${options.maxFiles}`);
  }

  write(stream: LogStream, chunk: Uint8Array, now?: Date): void {
    if (chunk.length === 0) return;
    const records: Buffer[] = [];
    const timestamp = formatRfc3339Nano(now === undefined ? nowNanos() : dateToNanos(now));
    const waiting = this.waiting[stream];
    let data = waiting === undefined ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) : Buffer.concat([waiting, chunk]);
    for (;;) {
      const newline = data.indexOf(NEWLINE);
      const lineEnd = newline < 0 ? data.length : newline;
      if (lineEnd >= MAX_LINE_BYTES) {
        records.push(record(timestamp, stream, 'P', data.subarray(0, MAX_LINE_BYTES)));
        data = data.subarray(MAX_LINE_BYTES);
        continue;
      }
      if (newline < 0) break;
      records.push(record(timestamp, stream, 'F', data.subarray(0, newline)));
      data = data.subarray(newline + 1);
    }
    // Copy what waits: the caller may reuse its chunk's memory.
    this.waiting[stream] = data.length === 0 ? undefined : Buffer.from(data);
    this.append(records);
  }

  /** Writes the partial lines still waiting (as `P` records) and closes the file; later writes are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    const timestamp = formatRfc3339Nano(nowNanos());
    const records: Buffer[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const waiting = this.waiting[stream];
      if (waiting !== undefined) records.push(record(timestamp, stream, 'P', waiting));
      this.waiting[stream] = undefined;
    }
    this.append(records);
    this.closed = true;
    this.closeFile();
  }

  stats(): CriLogWriterStats {
    return { ...this.counters };
  }

  private append(records: readonly Buffer[]): void {
    if (records.length === 0) return;
    if (this.closed) return this.drop(records, 'write after close');
    // Open first: the size of a file left by an earlier writer counts.
    if (this.open() === undefined) return this.drop(records, 'open');
    // Group records into one write as long as they fit the current file.
    let group: Buffer[] = [];
    let groupBytes = 0;
    for (const next of records) {
      if (this.sizeBytes + groupBytes + next.length > this.options.maxSizeBytes && this.sizeBytes + groupBytes > 0) {
        this.writeGroup(group, groupBytes);
        group = [];
        groupBytes = 0;
        if (this.sizeBytes > 0) this.rotate();
      }
      group.push(next);
      groupBytes += next.length;
    }
    this.writeGroup(group, groupBytes);
  }

  private writeGroup(group: Buffer[], groupBytes: number): void {
    if (group.length === 0) return;
    const fd = this.open();
    if (fd === undefined) return this.drop(group, 'open');
    const data = group.length === 1 ? (group[0] as Buffer) : Buffer.concat(group, groupBytes);
    let offset = 0;
    try {
      while (offset < data.length) offset += writeSync(fd, data, offset);
      this.sizeBytes += data.length;
      this.counters.writtenBytes += data.length;
    } catch (error) {
      this.sizeBytes += offset;
      this.counters.writtenBytes += offset;
      this.counters.droppedBytes += data.length - offset;
      this.counters.droppedRecords += group.length;
      this.failed('write', error);
      this.closeFile();
    }
  }

  /** The open file, opening (and creating the folder) when needed; undefined when the disk refuses. */
  private open(): number | undefined {
    if (this.fd !== undefined) return this.fd;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const fd = openSync(this.path, 'a', 0o640);
      this.fd = fd;
      this.sizeBytes = fstatSync(fd).size;
      return fd;
    } catch (error) {
      this.failed('open', error);
      return undefined;
    }
  }

  private rotate(): void {
    this.closeFile();
    try {
      renameSync(this.path, nextRotatedPath(this.path, new Date()));
      this.counters.rotations++;
      const rotated = listRotated(this.path);
      for (const old of rotated.slice(0, Math.max(0, rotated.length - (this.options.maxFiles - 1)))) rmSync(old, { force: true });
    } catch (error) {
      // The file keeps growing past its size rather than losing records.
      this.failed('rotate', error);
    }
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch (error) {
      this.failed('close', error);
    }
    this.fd = undefined;
    this.sizeBytes = 0;
  }

  private drop(records: readonly Buffer[], why: string): void {
    this.counters.droppedRecords += records.length;
    for (const dropped of records) this.counters.droppedBytes += dropped.length;
    if (why === 'write after close') this.failed(why, undefined);
  }

  private failed(operation: string, error: unknown): void {
    this.counters.writeErrors += error === undefined ? 0 : 1;
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
    const kind = `${operation}:${code}`;
    if (this.reported.has(kind)) return;
    this.reported.add(kind);
    this.options.logger?.warn({ path: this.path, operation, err: error }, 'container log: records dropped or not rotated (further errors of this kind are counted, not logged)');
  }
}

function record(timestamp: string, stream: LogStream, tag: 'P' | 'F', content: Buffer): Buffer {
  const head = Buffer.from(`${timestamp} ${stream} ${tag} `, 'latin1');
  return Buffer.concat([head, content, Buffer.from([NEWLINE])], head.length + content.length + 1);
}
