import { decodeMembership, encodeMembership, type Snapshot } from '@k8ts/raft';
import { ByteReader, ByteWriter, DecodeError } from '../binary.js';
import { crc32c, crc32cInSlices } from '../crc32c.js';

/**
 * One snapshot per file, named `<index>-<term>.snap` (16 hex digits each, so names sort by index):
 *
 *   8 bytes  magic "K8TSSNAP"
 *   u32 LE   format version
 *   u32 LE   CRC-32C of body
 *   u64 LE   body length
 *   body     u64 index, u64 term, u32 membership length, membership (Raft's encoding), data (the rest)
 */
const MAGIC = Buffer.from('K8TSSNAP', 'latin1');
export const SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 4 + 4 + 8;
const NAME_PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export interface SnapshotId {
  readonly index: number;
  readonly term: number;
}

export function snapshotFileName({ index, term }: SnapshotId): string {
  return `${index.toString(16).padStart(16, '0')}-${term.toString(16).padStart(16, '0')}.snap`;
}

export function parseSnapshotFileName(name: string): SnapshotId | undefined {
  const match = NAME_PATTERN.exec(name);
  if (match === null) return undefined;
  const index = Number.parseInt(match[1] ?? '', 16);
  const term = Number.parseInt(match[2] ?? '', 16);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term)) return undefined;
  return { index, term };
}

/**
 * The file as parts to write one after another: the data is not copied, and its CRC is taken a slice
 * at a time (crc32cInSlices), so writing a big snapshot never holds up the process for long.
 */
export async function snapshotFileParts(snapshot: Snapshot): Promise<Uint8Array[]> {
  const meta = encodeMeta(snapshot);
  const crc = await crc32cInSlices([meta, snapshot.data]);
  return [encodeHeader(meta.length + snapshot.data.length, crc), meta, snapshot.data];
}

/** The body before the data: index, term and the membership. */
function encodeMeta(snapshot: Snapshot): Buffer {
  const membership = encodeMembership(snapshot.meta.membership);
  return new ByteWriter(8 + 8 + 4 + membership.length)
    .u64(snapshot.meta.index)
    .u64(snapshot.meta.term)
    .u32(membership.length)
    .bytes(membership)
    .finish();
}

function encodeHeader(bodyBytes: number, crc: number): Buffer {
  return new ByteWriter(HEADER_BYTES).bytes(MAGIC).u32(SNAPSHOT_FORMAT_VERSION).u32(crc).u64(bodyBytes).finish();
}

/** Throws `DecodeError` naming what is wrong: a short file, a bad CRC, an unknown version. */
export function decodeSnapshotFile(bytes: Buffer): Snapshot {
  const header = new ByteReader(bytes.subarray(0, HEADER_BYTES));
  if (!MAGIC.equals(header.bytes(MAGIC.length, 'snapshot magic'))) throw new DecodeError('not a snapshot file (magic)');
  const version = header.u32('snapshot format version');
  if (version !== SNAPSHOT_FORMAT_VERSION) throw new DecodeError(`unsupported snapshot format version ${version}`);
  const storedCrc = header.u32('snapshot CRC');
  const bodyLength = header.u64('snapshot body length');
  if (HEADER_BYTES + bodyLength !== bytes.length) {
    throw new DecodeError(`file holds ${bytes.length - HEADER_BYTES} body bytes, header says ${bodyLength}`);
  }
  const bodyBytes = bytes.subarray(HEADER_BYTES);
  const computedCrc = crc32c(bodyBytes);
  if (storedCrc !== computedCrc) throw new DecodeError(`CRC mismatch (stored ${storedCrc}, computed ${computedCrc})`);
  const body = new ByteReader(bodyBytes);
  const index = body.u64('snapshot index');
  const term = body.u64('snapshot term');
  const membershipBytes = body.bytes(body.u32('membership length'), 'membership');
  let membership;
  try {
    membership = decodeMembership(membershipBytes);
  } catch (error) {
    throw new DecodeError(`undecodable membership: ${(error as Error).message}`);
  }
  return { meta: { index, term, membership }, data: body.rest('snapshot data') };
}
