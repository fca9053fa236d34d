import { DecodeError } from '../binary.js';
import { WalCorruptionError } from '../errors.js';
import { FRAME_ALIGN_BYTES, FRAME_HEADER_BYTES, readFrame } from './record_frame.js';
import { WalRecordType, decodeRecord, type WalRecord } from './records.js';
import type { SegmentId } from './segment_name.js';

export interface ScannedRecord {
  readonly record: WalRecord;
  readonly offset: number;
}

export interface SegmentScan {
  readonly records: readonly ScannedRecord[];
  /** Bytes from the start of the file to the end of the last good record. */
  readonly validBytes: number;
  /**
   * Set when the segment ends in a torn write, which recovery cuts off at `offset`; `droppedBytes`
   * counts to the last non-zero byte, not through the preallocated zeroes after it.
   */
  readonly tornTail?: { readonly offset: number; readonly reason: string; readonly droppedBytes: number };
}

/**
 * Reads one segment's bytes, applying etcd's rule for damage:
 * - in the LAST segment, zeroes from a record boundary to the end are its preallocated space: a clean
 *   end, not damage;
 * - in the LAST segment, a bad record (short header, length past the end, CRC mismatch) followed only
 *   by bytes in which no valid record starts is a write the crash interrupted: it never was
 *   acknowledged, so it is reported as a torn tail for the caller to truncate;
 * - anywhere else, or when a valid record still follows, it is corruption: acknowledged data may sit
 *   behind it, so recovery stops rather than drop it.
 * A record whose CRC matches but which does not decode is always corruption (the writer wrote it so).
 */
export function scanSegment(file: string, bytes: Buffer, expected: SegmentId, isLast: boolean): SegmentScan {
  const records: ScannedRecord[] = [];
  if (bytes.length === 0) throw new WalCorruptionError(file, 0, 'empty segment: its header is missing');
  let offset = 0;
  while (offset < bytes.length) {
    const frame = readFrame(bytes, offset);
    if (!frame.ok) {
      // Segments get their name only after their header is durable, so a bad header is never torn.
      if (offset === 0) throw new WalCorruptionError(file, 0, `unreadable segment header: ${frame.reason}`);
      if (!isLast) throw new WalCorruptionError(file, offset, `${frame.reason} in a segment that is not the last`);
      const dataEnd = endOfNonZeroBytes(bytes);
      // The newest segment is preallocated: zeroes from here on are where the next record will go.
      if (dataEnd <= offset) return { records, validBytes: offset };
      const later = findValidFrameAfter(bytes, offset, dataEnd);
      if (later !== undefined) {
        throw new WalCorruptionError(file, offset, `${frame.reason}, yet a valid record follows at offset ${later}`);
      }
      return { records, validBytes: offset, tornTail: { offset, reason: frame.reason, droppedBytes: dataEnd - offset } };
    }
    const record = decodeAt(file, offset, frame.body);
    checkPlacement(file, offset, record, expected);
    records.push({ record, offset });
    offset = frame.next;
  }
  return { records, validBytes: offset };
}

function decodeAt(file: string, offset: number, body: Buffer): WalRecord {
  try {
    return decodeRecord(body);
  } catch (error) {
    if (error instanceof DecodeError) throw new WalCorruptionError(file, offset, `undecodable record: ${error.message}`);
    throw error;
  }
}

/** The header comes first, only first, and names the same segment as the file name. */
function checkPlacement(file: string, offset: number, record: WalRecord, expected: SegmentId): void {
  const isHeader = record.type === WalRecordType.SegmentHeader;
  if (offset === 0 && !isHeader) throw new WalCorruptionError(file, 0, 'segment does not start with its header');
  if (offset !== 0 && isHeader) throw new WalCorruptionError(file, offset, 'segment header in the middle of a segment');
  if (isHeader) {
    const { sequence, firstIndex } = record.header;
    if (sequence !== expected.sequence || firstIndex !== expected.firstIndex) {
      throw new WalCorruptionError(
        file,
        0,
        `header names segment ${sequence}/${firstIndex}, file name says ${expected.sequence}/${expected.firstIndex}`,
      );
    }
  }
}

/**
 * The first aligned offset after `offset` where a record with a matching CRC starts, if any. A record
 * starts with its non-zero length, so none starts at or after `dataEnd`.
 */
function findValidFrameAfter(bytes: Buffer, offset: number, dataEnd: number): number | undefined {
  for (let at = offset + FRAME_ALIGN_BYTES; at < dataEnd && at + FRAME_HEADER_BYTES <= bytes.length; at += FRAME_ALIGN_BYTES) {
    if (readFrame(bytes, at).ok) return at;
  }
  return undefined;
}

const ZERO_CHUNK = Buffer.alloc(64 * 1024);

/** The offset just past the last non-zero byte (0 when all are zero); compares chunks from the end. */
function endOfNonZeroBytes(bytes: Buffer): number {
  let end = bytes.length;
  while (end > 0) {
    const start = Math.max(0, end - ZERO_CHUNK.length);
    if (bytes.compare(ZERO_CHUNK, 0, end - start, start, end) !== 0) break;
    end = start;
  }
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  return end;
}
