import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { formatRfc3339Nano, listRotated, parseRecord, parseRfc3339Nano } from './cri_log_format.js';
import { CriLogWriter } from './cri_log_writer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cri-log-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').slice(0, -1);
const at = new Date('2026-01-02T03:04:05.120Z');

describe('the CRI log format', () => {
  test('RFC3339Nano as Go writes it: trailing zeros of the fraction trimmed', () => {
    expect(formatRfc3339Nano(1767323045120000000n)).toBe('2026-01-02T03:04:05.12Z');
    expect(formatRfc3339Nano(1767323045000000000n)).toBe('2026-01-02T03:04:05Z');
    expect(formatRfc3339Nano(1767323045000000001n)).toBe('2026-01-02T03:04:05.000000001Z');
    expect(parseRfc3339Nano('2026-01-02T03:04:05.000000001Z')).toBe(1767323045000000001n);
    expect(parseRfc3339Nano('2026-01-02T05:04:05.5+02:00')).toBe(1767323045500000000n);
    expect(parseRfc3339Nano('yesterday')).toBeUndefined();
  });

  test('a record parses back into its parts; a line not in the format does not', () => {
    const parsed = parseRecord(Buffer.from('2026-01-02T03:04:05.12Z stderr P half a line'));
    expect(parsed).toMatchObject({ timestampNanos: 1767323045120000000n, stream: 'stderr', partial: true });
    expect(parsed?.content.toString()).toBe('half a line');
    expect(parseRecord(Buffer.from('2026-01-02T03:04:05Z stdout F '))?.content.length).toBe(0);
    expect(parseRecord(Buffer.from('not a record'))).toBeUndefined();
  });
});

describe('CriLogWriter', () => {
  test('creates the folder and writes one F record per line, streams tagged', async () => {
    const path = join(dir, 'pods', 'ns_p_uid', 'app', '0.log');
    const writer = new CriLogWriter(path, { maxSizeBytes: 1 << 20, maxFiles: 5 });
    writer.write('stdout', encode('one\ntwo\n'), at);
    writer.write('stderr', encode('oops\n'), at);
    await writer.close();
    expect(lines(path)).toEqual([
      '2026-01-02T03:04:05.12Z stdout F one',
      '2026-01-02T03:04:05.12Z stdout F two',
      '2026-01-02T03:04:05.12Z stderr F oops',
    ]);
  });

  test('a line without its newline waits for the rest of it, per stream; close writes it as P', async () => {
    const path = join(dir, '0.log');
    const writer = new CriLogWriter(path, { maxSizeBytes: 1 << 20, maxFiles: 5 });
    writer.write('stdout', encode('hel'), at);
    writer.write('stderr', encode('err'), at);
    writer.write('stdout', encode('lo\nwor'), at);
    writer.write('stderr', encode('or\n'), at);
    writer.write('stdout', encode('ld'), at);
    expect(lines(path).map((line) => line.slice(line.indexOf(' ') + 1))).toEqual(['stdout F hello', 'stderr F error']);
    await writer.close();
    expect(lines(path).at(-1)).toMatch(/^\S+ stdout P world$/);
    writer.write('stdout', encode('late\n'));
    expect(writer.stats()).toMatchObject({ droppedRecords: 1, writeErrors: 0 });
  });

  test('a line over 16 KiB is cut into P records of 16 KiB, the rest F', async () => {
    const path = join(dir, '0.log');
    const writer = new CriLogWriter(path, { maxSizeBytes: 1 << 20, maxFiles: 5 });
    const long = 'x'.repeat(40_000);
    writer.write('stdout', encode(long.slice(0, 10_000)), at);
    writer.write('stdout', encode(`${long.slice(10_000)}\nnext\n`), at);
    await writer.close();
    const records = lines(path).map((line) => parseRecord(Buffer.from(line)));
    expect(records.map((record) => [record?.partial, record?.content.length])).toEqual([
      [true, 16_384],
      [true, 16_384],
      [false, 40_000 - 2 * 16_384],
      [false, 4],
    ]);
  });

  test('rotates by size, keeps maxFiles files, and loses no record of those kept', async () => {
    const path = join(dir, '0.log');
    const writer = new CriLogWriter(path, { maxSizeBytes: 300, maxFiles: 3 });
    for (let n = 0; n < 100; n++) writer.write('stdout', encode(`line ${n}\n`), at);
    await writer.close();
    const rotated = listRotated(path);
    expect(rotated).toHaveLength(2);
    expect(readdirSync(dir)).toHaveLength(3);
    expect(rotated[0]).toMatch(/0\.log\.\d{8}-\d{6}(-\d+)?$/);
    for (const file of [...rotated, path]) expect(statSync(file).size).toBeLessThanOrEqual(300);
    const kept = [...rotated, path].flatMap(lines).map((line) => parseRecord(Buffer.from(line))?.content.toString());
    expect(kept.at(-1)).toBe('line 99');
    const first = Number(kept[0]?.split(' ')[1]);
    expect(kept).toEqual(Array.from({ length: 100 - first }, (_, index) => `line ${first + index}`));
    expect(writer.stats().rotations).toBeGreaterThan(2);
  });

  test('a file left by an earlier writer counts towards the size', async () => {
    const path = join(dir, '0.log');
    writeFileSync(path, `${'2026-01-02T03:04:05Z stdout F '}${'y'.repeat(250)}\n`);
    const writer = new CriLogWriter(path, { maxSizeBytes: 300, maxFiles: 2 });
    writer.write('stdout', encode('z'.repeat(60) + '\n'), at);
    await writer.close();
    expect(listRotated(path)).toHaveLength(1);
    expect(lines(path)).toHaveLength(1);
  });

  test('a disk error never throws from write: records are dropped, counted, and logged once', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as never;
    const writer = new CriLogWriter(join(blocker, 'app', '0.log'), { maxSizeBytes: 1000, maxFiles: 2, logger });
    writer.write('stdout', encode('lost\nlost too\n'));
    writer.write('stderr', encode('also lost\n'));
    await writer.close();
    expect(writer.stats()).toMatchObject({ droppedRecords: 3, writtenBytes: 0 });
    expect(writer.stats().writeErrors).toBeGreaterThanOrEqual(2);
    expect(warnings).toHaveLength(1);
  });

  test('refuses options upstream refuses', () => {
    expect(() => new CriLogWriter(join(dir, '0.log'), { maxSizeBytes: 100, maxFiles: 1 })).toThrow(/maxFiles/);
  });
});
