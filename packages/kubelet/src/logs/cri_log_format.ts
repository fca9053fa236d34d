/**
 * The CRI log format, as containerd writes it and the kubelet reads it: one record per line,
 * `<RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n`, where `P` marks a partial line (the
 * rest follows in the next record of the same stream) and `F` the full line's end. Shared by the
 * writer and the reader, so both agree on every byte.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type LogStream = 'stdout' | 'stderr';

/** containerd's maximum line length: longer lines are split into partial records of this size. */
export const MAX_LINE_BYTES = 16 * 1024;

const NANOS_PER_MS = 1_000_000n;

/**
 * Nanoseconds since the epoch from the wall clock, with sub-millisecond precision from the monotonic
 * clock (a Date only holds milliseconds), never going backwards within this process.
 */
const wallAtStartNanos = BigInt(Date.now()) * NANOS_PER_MS;
const monotonicAtStart = process.hrtime.bigint();
let lastNanos = 0n;
export function nowNanos(): bigint {
  let nanos = wallAtStartNanos + (process.hrtime.bigint() - monotonicAtStart);
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return nanos;
}

export function dateToNanos(date: Date): bigint {
  return BigInt(date.getTime()) * NANOS_PER_MS;
}

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction trimmed, no fraction when it is zero. */
export function formatRfc3339Nano(nanos: bigint): string {
  const ms = nanos / NANOS_PER_MS;
  const fraction = nanos % 1_000_000_000n;
  const seconds = new Date(Number(ms)).toISOString().slice(0, 19);
  const digits = fraction.toString().padStart(9, '0').replace(/0+$/, '');
  return digits === '' ? `${seconds}Z` : `${seconds}.${digits}Z`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the epoch of an RFC 3339 time (any fraction length, any offset); undefined if unreadable. */
export function parseRfc3339Nano(text: string): bigint | undefined {
  const match = RFC3339.exec(text);
  if (match === null) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * NANOS_PER_MS + BigInt((match[2] ?? '').padEnd(9, '0'));
}

export interface LogRecord {
  readonly timestampNanos: bigint;
  readonly stream: LogStream;
  readonly partial: boolean;
  /** The content, without the trailing newline of the record. */
  readonly content: Buffer;
}

/** One record of a CRI log file (without its `\n`); undefined for a line that is not in the format. */
export function parseRecord(line: Buffer): LogRecord | undefined {
  const first = line.indexOf(0x20);
  if (first < 0) return undefined;
  const second = line.indexOf(0x20, first + 1);
  if (second < 0) return undefined;
  const timestampNanos = parseRfc3339Nano(line.toString('latin1', 0, first));
  const stream = line.toString('latin1', first + 1, second);
  if (timestampNanos === undefined || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  // The tag is `P` or `F`, possibly followed by `:`-separated extras in later CRI versions.
  const third = line.indexOf(0x20, second + 1);
  const tag = line.toString('latin1', second + 1, third < 0 ? line.length : third);
  const partial = tag.split(':')[0] === 'P';
  const content = third < 0 ? Buffer.alloc(0) : line.subarray(third + 1);
  return { timestampNanos, stream, partial, content };
}

/** The kubelet's rotated-file suffix: `<path>.<YYYYMMDD-HHMMSS>` (UTC here), `-<n>` when a second holds several. */
export function rotatedSuffix(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

const ROTATED = /^\.(\d{8}-\d{6})(?:-(\d+))?$/;

interface Rotated {
  readonly path: string;
  readonly stamp: string;
  readonly sequence: number;
}

function rotatedOf(path: string): Rotated[] {
  const name = basename(path);
  let entries: string[];
  try {
    entries = readdirSync(dirname(path));
  } catch {
    return [];
  }
  const found: Rotated[] = [];
  for (const entry of entries) {
    if (!entry.startsWith(name) || entry === name) continue;
    const match = ROTATED.exec(entry.slice(name.length));
    if (match !== null) found.push({ path: join(dirname(path), entry), stamp: match[1] ?? '', sequence: Number(match[2] ?? 0) });
  }
  return found.sort((a, b) => (a.stamp === b.stamp ? a.sequence - b.sequence : a.stamp < b.stamp ? -1 : 1));
}

/** The rotated files of a log, oldest first (missing folder: none). */
export function listRotated(path: string): string[] {
  return rotatedOf(path).map((file) => file.path);
}

/** The name the log rotated at `date` takes: after every rotated file of the same second. */
export function nextRotatedPath(path: string, date: Date): string {
  const stamp = rotatedSuffix(date);
  const sameSecond = rotatedOf(path).filter((file) => file.stamp === stamp);
  const last = sameSecond.at(-1);
  return last === undefined ? `${path}.${stamp}` : `${path}.${stamp}-${last.sequence + 1}`;
}
