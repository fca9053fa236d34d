import { join } from 'node:path';
import type { Logger } from 'pino';
import { removeTemporaryFiles } from '../durable_fs.js';
import { WalCorruptionError } from '../errors.js';
import { nodeFs, type StorageFs } from '../storage_fs.js';
import { LogReplay, type ReplayedLog } from './log_replay.js';
import { scanSegment } from './segment_scan.js';
import { parseSegmentFileName, segmentFileName, type SegmentId } from './segment_name.js';

export interface ReadWal {
  /** Segments found, oldest first. Empty for a WAL that was never started. */
  readonly segments: readonly SegmentId[];
  readonly replayed: ReplayedLog;
  /** Where appending resumes in the newest segment: the end of its last good record. */
  readonly newestValidBytes: number;
}

/**
 * Reads and replays every segment. Damage anywhere but a torn tail throws `WalCorruptionError` before
 * anything is changed on disk; a torn tail is cut off (with a warning) only once all segments have
 * been read, so a failed recovery leaves the directory as it found it, temporary files aside.
 */
export async function readWal(dir: string, logger: Logger, fs: StorageFs = nodeFs): Promise<ReadWal> {
  const leftovers = await removeTemporaryFiles(fs, dir);
  if (leftovers.length > 0) logger.warn({ files: leftovers }, 'removed unfinished WAL files left by a crash');
  const segments = (await fs.readdir(dir))
    .flatMap((name) => parseSegmentFileName(name) ?? [])
    .sort((a, b) => a.sequence - b.sequence);
  checkContiguous(segments);

  const replay = new LogReplay();
  let newestValidBytes = 0;
  let torn: { file: string; offset: number; reason: string; droppedBytes: number } | undefined;
  for (const [position, id] of segments.entries()) {
    const file = segmentFileName(id);
    const bytes = await fs.readFile(join(dir, file));
    const isNewest = position === segments.length - 1;
    const scan = scanSegment(file, bytes, id, isNewest);
    for (const { record, offset } of scan.records) replay.apply(record, file, offset);
    if (isNewest) {
      newestValidBytes = scan.validBytes;
      if (scan.tornTail !== undefined) {
        torn = { file, ...scan.tornTail };
      }
    }
  }
  if (torn !== undefined) {
    logger.warn(torn, 'truncating a torn write at the end of the WAL');
    await truncateDurably(fs, join(dir, torn.file), newestValidBytes);
  }
  return { segments, replayed: replay.result(), newestValidBytes };
}

/** Segments are only ever released oldest first, so a gap in the sequence means one went missing. */
function checkContiguous(segments: readonly SegmentId[]): void {
  segments.forEach((id, position) => {
    const previous = segments[position - 1];
    if (previous !== undefined && id.sequence !== previous.sequence + 1) {
      throw new WalCorruptionError(
        segmentFileName(id),
        0,
        `segment sequence jumps from ${previous.sequence} to ${id.sequence}: a segment is missing`,
      );
    }
  });
}

async function truncateDurably(fs: StorageFs, path: string, sizeBytes: number): Promise<void> {
  const handle = await fs.open(path, 'r+');
  try {
    await handle.truncate(sizeBytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
