import { EntryType, type Entry, type HardState } from '@k8ts/raft';
import { ByteReader, ByteWriter, DecodeError } from '../binary.js';
import { encodeFrame } from './record_frame.js';

/** The first byte of every record body. Values are part of the on-disk format: never renumber. */
export enum WalRecordType {
  SegmentHeader = 1,
  Entry = 2,
  HardState = 3,
  Snapshot = 4,
}

export const WAL_FORMAT_VERSION = 1;
const SEGMENT_MAGIC = Buffer.from('K8TSWAL\0', 'latin1');

/** Opens every segment: which segment this is, so a renamed or misplaced file is caught. */
export interface SegmentHeader {
  readonly version: number;
  readonly sequence: number;
  readonly firstIndex: number;
}

/**
 * A snapshot became durable. `resetsLog` tells the two kinds apart on replay:
 * - a snapshot installed from the leader replaces the whole log (entries after it are stale);
 * - the application's own compaction snapshot only covers a prefix (entries after it stay).
 */
export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
  readonly resetsLog: boolean;
}

export type WalRecord =
  | { readonly type: WalRecordType.SegmentHeader; readonly header: SegmentHeader }
  | { readonly type: WalRecordType.Entry; readonly entry: Entry }
  | { readonly type: WalRecordType.HardState; readonly hardState: HardState }
  | { readonly type: WalRecordType.Snapshot; readonly marker: SnapshotMarker };

/** The record's body (type byte + payload), framed with length and CRC. */
export function encodeRecord(record: WalRecord): Buffer {
  return encodeFrame(encodeBody(record));
}

function encodeBody(record: WalRecord): Buffer {
  switch (record.type) {
    case WalRecordType.SegmentHeader: {
      const { version, sequence, firstIndex } = record.header;
      return new ByteWriter(1 + 8 + 4 + 8 + 8)
        .u8(record.type)
        .bytes(SEGMENT_MAGIC)
        .u32(version)
        .u64(sequence)
        .u64(firstIndex)
        .finish();
    }
    case WalRecordType.Entry: {
      const { index, term, type, data } = record.entry;
      return new ByteWriter(1 + 8 + 8 + 1 + data.length).u8(record.type).u64(index).u64(term).u8(type).bytes(data).finish();
    }
    case WalRecordType.HardState: {
      const { term, vote, commit } = record.hardState;
      return new ByteWriter(1 + 8 + 8 + 8).u8(record.type).u64(term).u64(vote).u64(commit).finish();
    }
    case WalRecordType.Snapshot: {
      const { index, term, resetsLog } = record.marker;
      return new ByteWriter(1 + 8 + 8 + 1).u8(record.type).u64(index).u64(term).u8(resetsLog ? 1 : 0).finish();
    }
  }
}

/** Decodes a body whose CRC already matched; anything odd here is a writer/reader disagreement. */
export function decodeRecord(body: Uint8Array): WalRecord {
  const reader = new ByteReader(body);
  const type = reader.u8('record type');
  let record: WalRecord;
  switch (type) {
    case WalRecordType.SegmentHeader: {
      const magic = reader.bytes(SEGMENT_MAGIC.length, 'segment magic');
      if (!SEGMENT_MAGIC.equals(magic)) throw new DecodeError('segment header has the wrong magic');
      const version = reader.u32('format version');
      if (version !== WAL_FORMAT_VERSION) throw new DecodeError(`unsupported WAL format version ${version}`);
      record = { type, header: { version, sequence: reader.u64('sequence'), firstIndex: reader.u64('first index') } };
      break;
    }
    case WalRecordType.Entry: {
      const index = reader.u64('entry index');
      const term = reader.u64('entry term');
      const entryType = reader.u8('entry type');
      if (entryType !== EntryType.Normal && entryType !== EntryType.Membership) {
        throw new DecodeError(`unknown entry type ${entryType}`);
      }
      record = { type, entry: { index, term, type: entryType, data: reader.rest('entry data') } };
      break;
    }
    case WalRecordType.HardState:
      record = { type, hardState: { term: reader.u64('term'), vote: reader.u64('vote'), commit: reader.u64('commit') } };
      break;
    case WalRecordType.Snapshot: {
      const index = reader.u64('snapshot index');
      const term = reader.u64('snapshot term');
      const flag = reader.u8('snapshot kind');
      if (flag > 1) throw new DecodeError(`unknown snapshot marker kind ${flag}`);
      record = { type, marker: { index, term, resetsLog: flag === 1 } };
      break;
    }
    default:
      throw new DecodeError(`unknown record type ${type}`);
  }
  reader.end(WalRecordType[type] ?? 'record');
  return record;
}
