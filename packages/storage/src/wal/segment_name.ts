/**
 * Segment files are named `<sequence>-<firstIndex>.wal`, both as 16 hex digits (etcd's
 * `%016x-%016x.wal`), so a plain sort orders them by sequence. `firstIndex` is the index the log's next
 * entry would take when the segment was cut; a later rewrite of an older suffix may still put entries
 * with lower indexes into it.
 */
export interface SegmentId {
  readonly sequence: number;
  readonly firstIndex: number;
}

const SEGMENT_PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export function segmentFileName({ sequence, firstIndex }: SegmentId): string {
  return `${hex16(sequence)}-${hex16(firstIndex)}.wal`;
}

export function parseSegmentFileName(name: string): SegmentId | undefined {
  const match = SEGMENT_PATTERN.exec(name);
  if (match === null) return undefined;
  const sequence = Number.parseInt(match[1] ?? '', 16);
  const firstIndex = Number.parseInt(match[2] ?? '', 16);
  if (!Number.isSafeInteger(sequence) || !Number.isSafeInteger(firstIndex)) return undefined;
  return { sequence, firstIndex };
}

function hex16(value: number): string {
  return value.toString(16).padStart(16, '0');
}
