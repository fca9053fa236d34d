import { EntryType, encodeMembership, membershipOf } from '@k8ts/raft';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { RaftStorage, StorageError, StorageInvariantError, type RaftStorageOptions } from './index.js';
import {
  capturingLogger,
  entries,
  entry,
  snapshotAt,
  snapshotNames,
  temporaryDirectory,
  walSegmentNames,
} from './testing/fixtures.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshDir(): Promise<string> {
  const dir = await temporaryDirectory();
  dirs.push(dir);
  return dir;
}

function quiet(options: RaftStorageOptions = {}): RaftStorageOptions {
  return { logger: capturingLogger().logger, ...options };
}

async function reopen(dir: string, options: RaftStorageOptions = {}): Promise<RaftStorage> {
  return RaftStorage.open(dir, quiet(options));
}

async function segmentBytes(dir: string): Promise<Buffer[]> {
  return Promise.all((await walSegmentNames(dir)).map((name) => readFile(join(dir, 'wal', name))));
}

describe('round trip', () => {
  test('a new directory opens empty, with wal/ holding its first segment', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir);
    expect(storage.load()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [] });
    await storage.close();
    expect(await walSegmentNames(dir)).toEqual(['0000000000000000-0000000000000001.wal']);
    expect(await snapshotNames(dir)).toEqual([]);
  });

  test('entries and hard state come back exactly as saved, membership entries included', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir);
    const membership = { index: 1, term: 1, type: EntryType.Membership, data: encodeMembership(membershipOf([1, 2])) };
    await storage.save({ entries: [membership], hardState: { term: 1, vote: 1, commit: 0 } });
    await storage.save({ entries: entries(2, 5), hardState: { term: 1, vote: 1, commit: 4 } });
    await storage.close();

    const reopened = await reopen(dir);
    expect(reopened.load()).toEqual({
      hardState: { term: 1, vote: 1, commit: 4 },
      entries: [membership, ...entries(2, 5)],
    });
    await reopened.close();
  });

  test('a later write of an index replaces it and everything after it', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir);
    await storage.save({ entries: entries(1, 6), hardState: { term: 1, vote: 1, commit: 2 } });
    await storage.save({ entries: [entry(4, 2)], hardState: { term: 2, vote: 3, commit: 2 } });
    await storage.save({ entries: [entry(5, 2)] });
    await storage.close();

    const reopened = await reopen(dir);
    expect(reopened.load().entries).toEqual([...entries(1, 3), entry(4, 2), entry(5, 2)]);
    expect(reopened.load().hardState).toEqual({ term: 2, vote: 3, commit: 2 });
    await reopened.close();
  });

  test('a snapshot installed from the leader replaces the whole log, stale entries after it included', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir);
    await storage.save({ entries: entries(1, 10), hardState: { term: 1, vote: 1, commit: 3 } });
    const installed = snapshotAt(8, 2);
    await storage.save({ snapshot: installed, entries: [], hardState: { term: 2, vote: 0, commit: 8 } });
    await storage.close();

    let reopened = await reopen(dir);
    expect(reopened.load()).toEqual({ hardState: { term: 2, vote: 0, commit: 8 }, snapshot: installed, entries: [] });
    await reopened.save({ entries: entries(9, 12, 2), hardState: { term: 2, vote: 0, commit: 12 } });
    await reopened.close();

    reopened = await reopen(dir);
    expect(reopened.load().snapshot).toEqual(installed);
    expect(reopened.load().entries).toEqual(entries(9, 12, 2));
    await reopened.close();
  });

  test('saves made after an installed snapshot, without waiting for it, land after it', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir);
    await storage.save({ entries: entries(1, 4), hardState: { term: 1, vote: 1, commit: 1 } });
    const installing = storage.save({ snapshot: snapshotAt(6, 2), entries: [], hardState: { term: 2, vote: 0, commit: 6 } });
    const following = storage.save({ entries: entries(7, 9, 2), hardState: { term: 2, vote: 0, commit: 7 } });
    await Promise.all([installing, following]);
    await storage.close();

    const reopened = await reopen(dir);
    expect(reopened.load().snapshot?.meta.index).toBe(6);
    expect(reopened.load().entries).toEqual(entries(7, 9, 2));
    await reopened.close();
  });

  test("the application's snapshot compacts the log but keeps the entries after it", async () => {
    const dir = await freshDir();
    const storage = await reopen(dir);
    await storage.save({ entries: entries(1, 20), hardState: { term: 1, vote: 1, commit: 18 } });
    await storage.saveSnapshot(snapshotAt(15));
    await storage.close();
    expect(await snapshotNames(dir)).toEqual(['000000000000000f-0000000000000001.snap']);

    const reopened = await reopen(dir);
    expect(reopened.load()).toEqual({
      hardState: { term: 1, vote: 1, commit: 18 },
      snapshot: snapshotAt(15),
      entries: entries(16, 20),
    });
    await reopened.close();
  });

  test('only the newest snapshot files are kept', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir, { retainedSnapshotFiles: 2 });
    await storage.save({ entries: entries(1, 40), hardState: { term: 1, vote: 1, commit: 40 } });
    for (const index of [10, 20, 30, 40]) await storage.saveSnapshot(snapshotAt(index));
    await storage.close();
    expect(await snapshotNames(dir)).toEqual([
      '000000000000001e-0000000000000001.snap',
      '0000000000000028-0000000000000001.snap',
    ]);
  });
});

describe('segments', () => {
  const small = { segmentSizeBytes: 1024 };

  test('the WAL rolls over into segments named by sequence and first index, and reads back whole', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir, small);
    for (let index = 1; index <= 60; index += 1) {
      await storage.save({ entries: [entry(index, 1, 100)], hardState: { term: 1, vote: 1, commit: index - 1 } });
    }
    await storage.close();

    const names = await walSegmentNames(dir);
    expect(names.length).toBeGreaterThan(5);
    names.forEach((name, sequence) => expect(name.startsWith(sequence.toString(16).padStart(16, '0') + '-')).toBe(true));
    const firstIndexes = names.map((name) => Number.parseInt(name.slice(17, 33), 16));
    expect(firstIndexes[0]).toBe(1);
    expect([...firstIndexes].sort((a, b) => a - b)).toEqual(firstIndexes);

    const reopened = await reopen(dir, small);
    expect(reopened.load().entries).toEqual(entries(1, 60, 1, 100));
    expect(reopened.load().hardState.commit).toBe(59);
    await reopened.close();
  });

  test('the newest segment is preallocated to full size; older ones hold records to their last byte', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir, small);
    expect((await segmentBytes(dir)).map((bytes) => bytes.length)).toEqual([1024]);
    for (let index = 1; index <= 30; index += 1) await storage.save({ entries: [entry(index, 1, 100)] });

    const segments = await segmentBytes(dir);
    expect(segments.length).toBeGreaterThan(2);
    const newest = segments.pop() ?? Buffer.alloc(0);
    expect(newest.length).toBe(1024);
    expect(newest.at(-1)).toBe(0);
    for (const older of segments) {
      // Records run to the last byte: the frames' lengths, none zero, add up to the file's size.
      let offset = 0;
      while (offset < older.length) {
        const length = older.readUInt32LE(offset);
        expect(length).toBeGreaterThan(0);
        offset += 8 + Math.ceil(length / 8) * 8;
      }
      expect(offset).toBe(older.length);
      expect(older.length).toBeGreaterThanOrEqual(1024);
    }
    await storage.close();

    // The zeroes after the newest segment's records are its clean end: no warning, nothing cut.
    const { logger, lines } = capturingLogger();
    const reopened = await RaftStorage.open(dir, { logger, ...small });
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    expect(reopened.load().entries).toEqual(entries(1, 30, 1, 100));
    expect((await segmentBytes(dir)).at(-1)?.length).toBe(1024);
    await reopened.close();
  });

  test('a segment that is not the newest must not end in zeroes', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir, small);
    for (let index = 1; index <= 30; index += 1) await storage.save({ entries: [entry(index, 1, 100)] });
    await storage.close();
    const [oldest] = await walSegmentNames(dir);
    await appendFile(join(dir, 'wal', oldest ?? ''), Buffer.alloc(64));

    await expect(reopen(dir, small)).rejects.toThrow(/zero record length in a segment that is not the last/);
  });

  test('a rewrite reaching back into an older segment still replaces the suffix', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir, small);
    for (let index = 1; index <= 30; index += 1) await storage.save({ entries: [entry(index, 1, 100)] });
    expect((await walSegmentNames(dir)).length).toBeGreaterThan(2);
    await storage.save({ entries: entries(3, 5, 2), hardState: { term: 2, vote: 2, commit: 2 } });
    await storage.close();

    const reopened = await reopen(dir, small);
    expect(reopened.load().entries).toEqual([...entries(1, 2, 1, 100), ...entries(3, 5, 2)]);
    await reopened.close();
  });

  test('a snapshot releases the segments before the one its index lies in, and the rest still recovers', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir, small);
    for (let index = 1; index <= 60; index += 1) {
      await storage.save({ entries: [entry(index, 1, 100)], hardState: { term: 1, vote: 1, commit: index } });
    }
    const before = await walSegmentNames(dir);
    await storage.saveSnapshot(snapshotAt(40));
    const after = await walSegmentNames(dir);
    const released = before.filter((name) => !after.includes(name));
    expect(released.length).toBeGreaterThan(3);
    expect(released).toEqual(before.slice(0, released.length)); // oldest first, no holes
    const firstIndexes = after.map((name) => Number.parseInt(name.slice(17, 33), 16));
    expect(firstIndexes[0]).toBeLessThanOrEqual(40); // the segment holding index 40 is kept…
    expect(firstIndexes[1]).toBeGreaterThan(40); // …and is the newest one starting at or before it
    expect(storage.stats().segments).toBe(after.length);
    await storage.save({ entries: [entry(61, 1, 100)], hardState: { term: 1, vote: 1, commit: 61 } });
    await storage.close();

    const reopened = await reopen(dir, small);
    expect(reopened.load().snapshot?.meta.index).toBe(40);
    expect(reopened.load().entries).toEqual(entries(41, 61, 1, 100));
    expect(reopened.load().hardState).toEqual({ term: 1, vote: 1, commit: 61 });
    await reopened.close();
  });
});

describe('contract checks', () => {
  test('saves that break the log contract are refused, and nothing of them is written', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir);
    await storage.save({ entries: entries(1, 3), hardState: { term: 2, vote: 1, commit: 2 } });
    await expect(storage.save({ entries: [entry(5)] })).rejects.toThrow(/first entry 5 must lie in \(0, 4\]/);
    await expect(storage.save({ entries: [entry(4), entry(6)] })).rejects.toThrow(StorageInvariantError);
    await expect(storage.save({ entries: [], hardState: { term: 1, vote: 1, commit: 2 } })).rejects.toThrow(
      /hard state goes back/,
    );
    await expect(storage.save({ entries: [], hardState: { term: 2, vote: 1, commit: 9 } })).rejects.toThrow(
      /commit 9 is beyond the last index 3/,
    );
    await expect(storage.saveSnapshot(snapshotAt(3))).rejects.toThrow(/beyond the commit index 2/);
    await storage.close();
    await expect(storage.save({ entries: [entry(4)] })).rejects.toThrow(StorageError);

    const reopened = await reopen(dir);
    expect(reopened.load().entries).toEqual(entries(1, 3));
    await reopened.close();
  });

  test('once a snapshot file cannot be written, the storage refuses every later save', async () => {
    const dir = await freshDir();
    const storage = await reopen(dir);
    await storage.save({ entries: entries(1, 3), hardState: { term: 1, vote: 1, commit: 1 } });
    // A file where the snap directory should be: the snapshot's temporary file cannot be created.
    await rm(join(dir, 'snap'), { recursive: true });
    await writeFile(join(dir, 'snap'), 'not a directory');
    const installing = storage.save({ snapshot: snapshotAt(5, 2), entries: [], hardState: { term: 2, vote: 0, commit: 5 } });
    const following = storage.save({ entries: [entry(6, 2)] });
    await expect(installing).rejects.toThrow(/ENOTDIR/);
    await expect(following).rejects.toThrow(/storage failed earlier/);
    await expect(storage.save({ entries: [] })).rejects.toThrow(/storage failed earlier/);
    await storage.close();
  });
});
