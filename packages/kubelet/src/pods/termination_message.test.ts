import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logTail, prepareMessageFile, readTerminationMessage } from './termination_message.js';

describe('termination messages', () => {
  let dir: string;
  beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'termination-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const log = ['2026-01-01T00:00:00.000000000Z stdout F first', '2026-01-01T00:00:00.100000000Z stderr P par', '2026-01-01T00:00:00.200000000Z stderr F tial', ''].join('\n');

  it('reads what the container wrote at its terminationMessagePath', async () => {
    const messagePath = join(dir, 'c', '0', 'termination-log');
    await prepareMessageFile(messagePath);
    await writeFile(messagePath, 'bye');
    expect(await readTerminationMessage({ messagePath, logPath: join(dir, 'none'), policy: 'File', exitCode: 1, reason: 'Error' })).toBe('bye');
  });

  it('falls back to the log tail only with FallbackToLogsOnError, a failed exit and a container that ran', async () => {
    const messagePath = join(dir, 'empty');
    await prepareMessageFile(messagePath);
    const logPath = join(dir, '0.log');
    await writeFile(logPath, log);
    const read = (policy: string, exitCode: number, reason = 'Error') => readTerminationMessage({ messagePath, logPath, policy, exitCode, reason });
    expect(await read('FallbackToLogsOnError', 2)).toBe('first\npartial\n');
    expect(await read('FallbackToLogsOnError', 0)).toBe('');
    expect(await read('File', 2)).toBe('');
    expect(await read('FallbackToLogsOnError', 128, 'ContainerCannotRun')).toBe('');
  });

  it('keeps the last 80 lines and at most 2048 bytes of the log', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `2026-01-01T00:00:00Z stdout F line ${i}`).join('\n');
    const tail = logTail(lines);
    expect(tail.split('\n').filter(Boolean)).toHaveLength(80);
    expect(tail.startsWith('line 20\n')).toBe(true);
    const long = logTail(`2026-01-01T00:00:00Z stdout F ${'x'.repeat(5000)}`);
    expect(Buffer.byteLength(long)).toBe(2048);
  });
});
