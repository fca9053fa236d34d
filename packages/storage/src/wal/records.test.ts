import { EntryType } from '@k8ts/raft';
import { describe, expect, test } from 'vitest';
import { DecodeError } from '../binary.js';
import { crc32c } from '../crc32c.js';
import { FRAME_ALIGN_BYTES, encodeFrame, readFrame } from './record_frame.js';
import { WalRecordType, decodeRecord, encodeRecord, type WalRecord } from './records.js';
import { parseSegmentFileName, segmentFileName } from './segment_name.js';

const samples: WalRecord[] = [
  { type: WalRecordType.SegmentHeader, header: { version: 1, sequence: 7, firstIndex: 12_345 } },
  { type: WalRecordType.Entry, entry: { index: 2 ** 40, term: 3, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) } },
  { type: WalRecordType.Entry, entry: { index: 1, term: 1, type: EntryType.Membership, data: new Uint8Array() } },
  { type: WalRecordType.HardState, hardState: { term: 9, vote: 2, commit: Number.MAX_SAFE_INTEGER } },
  { type: WalRecordType.Snapshot, marker: { index: 100, term: 4, resetsLog: true } },
  { type: WalRecordType.Snapshot, marker: { index: 100, term: 4, resetsLog: false } },
];

test('CRC-32C matches the standard check value', () => {
  expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
});

describe('record encoding', () => {
  test.each(samples.map((record) => [WalRecordType[record.type], record] as const))('%s round-trips', (_, record) => {
    const frame = encodeRecord(record);
    expect(frame.length % FRAME_ALIGN_BYTES).toBe(0);
    const read = readFrame(frame, 0);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.next).toBe(frame.length);
    expect(decodeRecord(read.body)).toEqual(record);
  });

  test('the frame reader names what is wrong instead of throwing', () => {
    const frame = encodeRecord(samples[1] as WalRecord);
    const flipped = Buffer.from(frame);
    flipped[12] = (flipped[12] ?? 0) ^ 1;
    expect(readFrame(flipped, 0)).toEqual({ ok: false, reason: expect.stringMatching(/^CRC mismatch/) as unknown });
    expect(readFrame(frame.subarray(0, 5), 0)).toEqual({ ok: false, reason: 'short record header (5 bytes)' });
    expect(readFrame(frame.subarray(0, 16), 0)).toMatchObject({ ok: false, reason: expect.stringMatching(/runs past the end/) as unknown });
    expect(readFrame(Buffer.alloc(64), 0)).toEqual({ ok: false, reason: 'zero record length' });
    const huge = Buffer.alloc(16);
    huge.writeUInt32LE(0xffff_ffff, 0);
    expect(readFrame(huge, 0)).toMatchObject({ ok: false, reason: expect.stringMatching(/over the limit/) as unknown });
  });

  test('bodies with a good CRC but an unknown type, kind or trailing bytes do not decode', () => {
    expect(() => decodeRecord(Buffer.from([99]))).toThrow(/unknown record type 99/);
    const hardState = readFrame(encodeRecord(samples[3] as WalRecord), 0);
    if (!hardState.ok) throw new Error('sample did not frame');
    expect(() => decodeRecord(Buffer.concat([hardState.body, Buffer.from([0])]))).toThrow(DecodeError);
    expect(() => decodeRecord(hardState.body.subarray(0, 10))).toThrow(/needs 8 bytes/);
    const badKind = Buffer.alloc(18);
    badKind.writeUInt8(WalRecordType.Snapshot, 0);
    badKind.writeUInt8(7, 17);
    expect(() => decodeRecord(badKind)).toThrow(/unknown snapshot marker kind 7/);
    expect(() => encodeFrame(Buffer.alloc(0))).toThrow(/at least its type byte/);
  });
});

test('segment file names sort by sequence and carry the first index', () => {
  const id = { sequence: 10, firstIndex: 0xabc };
  expect(segmentFileName(id)).toBe('000000000000000a-0000000000000abc.wal');
  expect(parseSegmentFileName(segmentFileName(id))).toEqual(id);
  expect(parseSegmentFileName('000000000000000a-0000000000000abc.wal.tmp')).toBeUndefined();
  expect(parseSegmentFileName('notes.txt')).toBeUndefined();
  const names = [2, 16, 1, 255].map((sequence) => segmentFileName({ sequence, firstIndex: 1 }));
  expect([...names].sort().map((name) => parseSegmentFileName(name)?.sequence)).toEqual([1, 2, 16, 255]);
});
