import { expect, test } from 'vitest';
import { DecodeError } from '../binary.js';
import { snapshotAt } from '../testing/fixtures.js';
import type { Snapshot } from '@k8ts/raft';
import { decodeSnapshotFile, parseSnapshotFileName, snapshotFileName, snapshotFileParts } from './snapshot_file.js';

/** The file's bytes, as SnapshotDirectory writes them. */
const fileBytes = async (snapshot: Snapshot): Promise<Buffer> => Buffer.concat(await snapshotFileParts(snapshot));

test('a snapshot file round-trips its metadata, membership and data', async () => {
  const snapshot = snapshotAt(1234, 5);
  expect(decodeSnapshotFile(await fileBytes(snapshot))).toEqual(snapshot);
});

test('flipping any single byte, or cutting the file short, is detected', async () => {
  const bytes = await fileBytes(snapshotAt(7, 2));
  for (let offset = 0; offset < bytes.length; offset += 1) {
    const damaged = Buffer.from(bytes);
    damaged[offset] = (damaged[offset] ?? 0) ^ 0x10;
    expect(() => decodeSnapshotFile(damaged), `flip at ${offset}`).toThrow(DecodeError);
  }
  expect(() => decodeSnapshotFile(bytes.subarray(0, bytes.length - 1))).toThrow(/header says/);
  expect(() => decodeSnapshotFile(bytes.subarray(0, 10))).toThrow(DecodeError);
});

test('snapshot file names sort by index and carry the term', () => {
  expect(snapshotFileName({ index: 255, term: 3 })).toBe('00000000000000ff-0000000000000003.snap');
  expect(parseSnapshotFileName('00000000000000ff-0000000000000003.snap')).toEqual({ index: 255, term: 3 });
  expect(parseSnapshotFileName('00000000000000ff-0000000000000003.snap.broken')).toBeUndefined();
});

test('data over several CRC slices round-trips: the CRC taken in slices is the one-shot CRC reading checks', async () => {
  const data = new Uint8Array(9 * 1024 * 1024).map((_, i) => i % 251);
  const decoded = decodeSnapshotFile(await fileBytes({ ...snapshotAt(99, 4), data }));
  expect(decoded.meta.index).toBe(99);
  expect(Buffer.from(decoded.data).equals(Buffer.from(data))).toBe(true);
});
