// Helpers for this package's tests and its crash child process. Not exported from the package.
import { EntryType, membershipOf, type Entry, type Snapshot } from '@k8ts/raft';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

export function temporaryDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'k8ts-storage-'));
}

/** An entry whose data says which index and term it was written for, so a mix-up shows. */
export function entry(index: number, term = 1, padBytes = 0): Entry {
  const data = new TextEncoder().encode(`entry ${index} term ${term}` + '.'.repeat(padBytes));
  return { index, term, type: EntryType.Normal, data };
}

export function entries(from: number, to: number, term = 1, padBytes = 0): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, offset) => entry(from + offset, term, padBytes));
}

export function snapshotAt(index: number, term = 1): Snapshot {
  return {
    meta: { index, term, membership: membershipOf([1, 2, 3]) },
    data: new TextEncoder().encode(`state machine at ${index}`),
  };
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A pino logger that keeps its lines in memory, for tests that check what was logged. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

export async function walSegmentNames(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'wal'))).filter((name) => name.endsWith('.wal')).sort();
}

export async function snapshotNames(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'snap'))).sort();
}
