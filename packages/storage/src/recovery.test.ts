import { appendFile, readFile, readdir, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { RaftStorage, RecoveryError, WalCorruptionError, type RaftStorageOptions } from './index.js';
import { SnapshotDirectory } from './snapshot/snapshot_directory.js';
import {
  capturingLogger,
  entries,
  entry,
  snapshotAt,
  snapshotNames,
  temporaryDirectory,
  walSegmentNames,
  type LogLine,
} from './testing/fixtures.js';
import { readFrame } from './wal/record_frame.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const WARN = 40;

/** Segments are preallocated to their full size; 64 KiB keeps these files small. */
const SMALL_SEGMENTS = { segmentSizeBytes: 64 * 1024 };

/** A directory whose WAL holds entries 1..10, one save each, every save acknowledged. */
async function tenAcknowledgedSaves(options: RaftStorageOptions = {}): Promise<string> {
  const dir = await temporaryDirectory();
  dirs.push(dir);
  const storage = await RaftStorage.open(dir, { logger: capturingLogger().logger, ...SMALL_SEGMENTS, ...options });
  for (let index = 1; index <= 10; index += 1) {
    await storage.save({ entries: [entry(index, 1, 40)], hardState: { term: 1, vote: 1, commit: index - 1 } });
  }
  await storage.close();
  return dir;
}

async function openCapturing(dir: string, options: RaftStorageOptions = {}) {
  const { logger, lines } = capturingLogger();
  const storage = await RaftStorage.open(dir, { logger, ...SMALL_SEGMENTS, ...options });
  return { storage, lines };
}

async function newestSegmentPath(dir: string): Promise<string> {
  const names = await walSegmentNames(dir);
  return join(dir, 'wal', names[names.length - 1] ?? '');
}

/** Offsets at which records start in a segment file (up to its preallocated zeroes), read with the real frame reader. */
async function recordOffsets(path: string): Promise<number[]> {
  const bytes = await readFile(path);
  const offsets: number[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const frame = readFrame(bytes, offset);
    if (!frame.ok && onlyZeroesFrom(bytes, offset)) break;
    if (!frame.ok) throw new Error(`unexpected bad record at ${offset}`);
    offsets.push(offset);
    offset = frame.next;
  }
  return offsets;
}

function onlyZeroesFrom(bytes: Buffer, offset: number): boolean {
  for (let at = offset; at < bytes.length; at += 1) if (bytes[at] !== 0) return false;
  return true;
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0xff;
  await writeFile(path, bytes);
}

function warnings(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((line) => line.level === WARN);
}

describe('a torn write at the end of the last segment is cut off', () => {
  // The last save wrote entry 10, then hard state {commit 9}: damage to that final record loses it only.
  const survivors = { entries: entries(1, 10, 1, 40), hardState: { term: 1, vote: 1, commit: 8 } };

  test.each([
    ['the last record cut in half', async (path: string, last: number) => truncate(path, last + 12)],
    ['only part of the last record header written', async (path: string, last: number) => truncate(path, last + 3)],
    [
      'the last record damaged and followed by zeroes',
      async (path: string, last: number) => {
        await flipByte(path, last + 10);
        await appendFile(path, Buffer.alloc(4096));
      },
    ],
    [
      'the last record cut short and followed by garbage',
      async (path: string, last: number) => {
        await truncate(path, last + 6);
        await appendFile(path, Buffer.from('not a record, just what the disk happened to hold '.repeat(20)));
      },
    ],
  ])('%s', async (_, damage) => {
    const dir = await tenAcknowledgedSaves();
    const path = await newestSegmentPath(dir);
    const offsets = await recordOffsets(path);
    const last = offsets[offsets.length - 1] ?? 0;
    await damage(path, last);

    const { storage, lines } = await openCapturing(dir);
    expect(storage.load()).toEqual(survivors);
    const warning = warnings(lines).find((line) => line.msg === 'truncating a torn write at the end of the WAL');
    expect(warning).toMatchObject({ file: path.split('/').at(-1), offset: last });
    // What it drops is the damaged bytes, not the preallocated zeroes after them.
    expect(warning?.['droppedBytes']).toBeGreaterThan(0);
    expect(warning?.['droppedBytes']).toBeLessThan(2048);
    // Cut off, then preallocated again: zeroes from the last good record on.
    expect(onlyZeroesFrom(await readFile(path), last)).toBe(true);

    // Appends continue where the good records end, and the next restart is clean.
    await storage.save({ entries: [entry(11, 1, 40)], hardState: { term: 1, vote: 1, commit: 11 } });
    await storage.close();
    const again = await openCapturing(dir);
    expect(again.storage.load()).toEqual({ entries: entries(1, 11, 1, 40), hardState: { term: 1, vote: 1, commit: 11 } });
    expect(warnings(again.lines)).toEqual([]);
    await again.storage.close();
  });

  test('garbage after a clean end is dropped and every record before it kept', async () => {
    const dir = await tenAcknowledgedSaves();
    const path = await newestSegmentPath(dir);
    await appendFile(path, Buffer.alloc(1000, 0xab));

    const { storage, lines } = await openCapturing(dir);
    expect(storage.load().entries).toEqual(entries(1, 10, 1, 40));
    expect(storage.load().hardState.commit).toBe(9);
    expect(warnings(lines)).toHaveLength(1);
    await storage.close();
  });

  test('the record of entry 10 cut in half loses exactly the unacknowledged save', async () => {
    const dir = await tenAcknowledgedSaves();
    const path = await newestSegmentPath(dir);
    const offsets = await recordOffsets(path);
    await truncate(path, (offsets[offsets.length - 2] ?? 0) + 12);

    const { storage } = await openCapturing(dir);
    expect(storage.load()).toEqual({ entries: entries(1, 9, 1, 40), hardState: { term: 1, vote: 1, commit: 8 } });
    await storage.close();
  });
});

describe('damage before the end stops recovery', () => {
  test('a flipped byte in an earlier record: WalCorruptionError naming file, offset and reason; nothing changed', async () => {
    const dir = await tenAcknowledgedSaves();
    const path = await newestSegmentPath(dir);
    const offsets = await recordOffsets(path);
    const victim = offsets[4] ?? 0;
    await flipByte(path, victim + 12);
    const before = await readFile(path);

    const error = await RaftStorage.open(dir, { logger: capturingLogger().logger }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WalCorruptionError);
    const corruption = error as WalCorruptionError;
    expect(corruption.file).toBe(path.split('/').at(-1));
    expect(corruption.offset).toBe(victim);
    expect(corruption.reason).toMatch(/CRC mismatch .*yet a valid record follows at offset/);
    expect((await readFile(path)).equals(before)).toBe(true);
  });

  test('a damaged length field that points past the end is corruption too, since records follow it', async () => {
    const dir = await tenAcknowledgedSaves();
    const path = await newestSegmentPath(dir);
    const offsets = await recordOffsets(path);
    const bytes = await readFile(path);
    bytes.writeUInt32LE(bytes.length + 1024, offsets[3] ?? 0);
    await writeFile(path, bytes);

    await expect(RaftStorage.open(dir, { logger: capturingLogger().logger })).rejects.toThrow(
      /at offset \d+: record of \d+ bytes runs past the end of the file .*yet a valid record follows/,
    );
  });

  test('a torn-looking tail in a segment that is not the last one is corruption', async () => {
    const dir = await tenAcknowledgedSaves({ segmentSizeBytes: 1024 });
    const names = await walSegmentNames(dir);
    expect(names.length).toBeGreaterThan(1);
    const path = join(dir, 'wal', names[0] ?? '');
    await truncate(path, (await stat(path)).size - 5);

    await expect(RaftStorage.open(dir, { logger: capturingLogger().logger, segmentSizeBytes: 1024 })).rejects.toThrow(
      WalCorruptionError,
    );
  });

  test('a missing segment in the middle is corruption', async () => {
    const dir = await tenAcknowledgedSaves({ segmentSizeBytes: 1024 });
    const storage = await RaftStorage.open(dir, { logger: capturingLogger().logger, segmentSizeBytes: 1024 });
    await storage.save({ entries: entries(11, 30, 1, 100) });
    await storage.save({ entries: entries(31, 40, 1, 100) });
    await storage.close();
    const names = await walSegmentNames(dir);
    expect(names.length).toBeGreaterThan(2);
    await unlink(join(dir, 'wal', names[1] ?? ''));

    await expect(RaftStorage.open(dir, { logger: capturingLogger().logger })).rejects.toThrow(/a segment is missing/);
  });

  test('a segment renamed to another sequence is caught by its header', async () => {
    const dir = await tenAcknowledgedSaves();
    const [name] = await walSegmentNames(dir);
    await rename(join(dir, 'wal', name ?? ''), join(dir, 'wal', '0000000000000000-0000000000000002.wal'));

    await expect(RaftStorage.open(dir, { logger: capturingLogger().logger })).rejects.toThrow(/header names segment 0\/1/);
  });
});

describe('snapshot files', () => {
  async function withSnapshots(options: RaftStorageOptions, snapshotIndexes: number[], last = 20): Promise<string> {
    const dir = await temporaryDirectory();
    dirs.push(dir);
    const storage = await RaftStorage.open(dir, { logger: capturingLogger().logger, ...options });
    for (let index = 1; index <= last; index += 1) {
      await storage.save({ entries: [entry(index, 1, 100)], hardState: { term: 1, vote: 1, commit: index } });
    }
    for (const index of snapshotIndexes) await storage.saveSnapshot(snapshotAt(index));
    await storage.close();
    return dir;
  }

  test('a damaged newest snapshot is skipped for an older one when the WAL still holds what follows it', async () => {
    const dir = await withSnapshots({}, [10, 15]);
    const newest = join(dir, 'snap', '000000000000000f-0000000000000001.snap');
    await flipByte(newest, 40);

    const { storage, lines } = await openCapturing(dir);
    expect(storage.load().snapshot).toEqual(snapshotAt(10));
    expect(storage.load().entries).toEqual(entries(11, 20, 1, 100));
    expect(warnings(lines).map((line) => line.msg)).toEqual([
      'snapshot file is damaged; renamed to *.broken, trying an older one',
    ]);
    expect(await snapshotNames(dir)).toEqual([
      '000000000000000a-0000000000000001.snap',
      '000000000000000f-0000000000000001.snap.broken',
    ]);
    await storage.close();
  });

  test('when the WAL no longer holds the entries after the older snapshot, recovery stops', async () => {
    const dir = await withSnapshots({ segmentSizeBytes: 1024 }, [5, 40], 60);
    await flipByte(join(dir, 'snap', '0000000000000028-0000000000000001.snap'), 40);

    await expect(RaftStorage.open(dir, { logger: capturingLogger().logger })).rejects.toThrow(
      /newest usable snapshot is at 5, but the WAL's log starts at \d+: entries 6\.\.\d+ are gone/,
    );
  });

  test('with every snapshot damaged and the log compacted, recovery stops rather than start empty', async () => {
    const dir = await withSnapshots({ segmentSizeBytes: 1024 }, [40], 60);
    await flipByte(join(dir, 'snap', '0000000000000028-0000000000000001.snap'), 40);

    await expect(RaftStorage.open(dir, { logger: capturingLogger().logger })).rejects.toThrow(RecoveryError);
  });

  test('a snapshot file the WAL never acknowledged is removed, not restored', async () => {
    const dir = await tenAcknowledgedSaves();
    // A crash after an installed snapshot's file was written but before its WAL records were durable.
    await new SnapshotDirectory(join(dir, 'snap')).write(snapshotAt(50, 3));

    const { storage, lines } = await openCapturing(dir);
    expect(storage.load().snapshot).toBeUndefined();
    expect(storage.load().entries).toEqual(entries(1, 10, 1, 40));
    expect(warnings(lines).map((line) => line.msg)).toEqual(['removing a snapshot file the WAL never acknowledged']);
    expect(await snapshotNames(dir)).toEqual([]);
    await storage.close();
  });

  test('a WAL directory emptied under existing snapshots is an error, not a fresh start', async () => {
    const dir = await withSnapshots({}, [10]);
    for (const name of await readdir(join(dir, 'wal'))) await unlink(join(dir, 'wal', name));

    await expect(RaftStorage.open(dir, { logger: capturingLogger().logger })).rejects.toThrow(/holds no WAL/);
  });
});
