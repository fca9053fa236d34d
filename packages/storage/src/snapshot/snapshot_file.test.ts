import { expect, test } from 'vitest';
import { DecodeError } from '../binary.js';
import { snapshotAt } from '../testing/fixtures.js';
import { decodeSnapshotFile, encodeSnapshotFile, parseSnapshotFileName, snapshotFileName, snapshotFileParts } from './snapshot_file.js';

test('a snapshot file round-trips its metadata, membership and data', () => {
  const snapshot = snapshotAt(1234, 5);
  expect(decodeSnapshotFile(encodeSnapshotFile(snapshot))).toEqual(snapshot);
});

test('flipping any single byte, or cutting the file short, is detected', () => {
  const bytes = encodeSnapshotFile(snapshotAt(7, 2));
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

test('the file written in parts is the encoded file, byte for byte', async () => {
  const snapshot = { ...snapshotAt(99, 4), data: new Uint8Array(9 * 1024 * 1024).map((_, i) => i % 251) };
  expect(Buffer.concat(await snapshotFileParts(snapshot)).equals(encodeSnapshotFile(snapshot))).toBe(true);
});
