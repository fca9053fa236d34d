import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { readCriLog, type ReadLogOptions } from './cri_log_reader.js';
import { CriLogWriter } from './cri_log_writer.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cri-log-reader-'));
  path = join(dir, 'app', '0.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const second = (n: number): Date => new Date(Date.UTC(2026, 0, 2, 3, 4, n));

async function read(options: ReadLogOptions = {}): Promise<string> {
  let text = '';
  for await (const chunk of readCriLog(path, options)) text += chunk.toString();
  return text;
}

/** Waits (with a deadline) until `check` holds, reading the follower's output so far. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

function writeLines(writer: CriLogWriter, from: number, to: number): void {
  for (let n = from; n < to; n++) writer.write(n % 2 === 0 ? 'stdout' : 'stderr', encode(`line ${n}\n`), second(n));
}

describe('readCriLog', () => {
  test('the whole log, both streams, partial records joined; a foreign line skipped', async () => {
    const writer = new CriLogWriter(path, { maxSizeBytes: 1 << 20, maxFiles: 5 });
    writer.write('stdout', encode('hello\nwor'), second(1));
    writer.write('stderr', encode('warning\n'), second(2));
    writer.write('stdout', encode('ld'), second(3));
    await writer.close();
    writeFileSync(path, 'garbage that is not a record\n', { flag: 'a' });
    expect(await read()).toBe('hello\nwarning\nworld');
  });

  test('timestamps at each line start, as the kubelet prints them', async () => {
    const writer = new CriLogWriter(path, { maxSizeBytes: 1 << 20, maxFiles: 5 });
    writer.write('stdout', encode('a\n'), new Date('2026-01-02T03:04:05.100Z'));
    writer.write('stdout', encode('x'.repeat(20_000) + '\n'), new Date('2026-01-02T03:04:06Z'));
    await writer.close();
    const lines = (await read({ timestamps: true })).split('\n');
    expect(lines[0]).toBe('2026-01-02T03:04:05.1Z a');
    expect(lines[1]).toBe(`2026-01-02T03:04:06Z ${'x'.repeat(20_000)}`);
  });

  test('tailLines across rotated files, sinceNanos, and limitBytes', async () => {
    const writer = new CriLogWriter(path, { maxSizeBytes: 200, maxFiles: 10 });
    writeLines(writer, 0, 40);
    await writer.close();
    const all = Array.from({ length: 40 }, (_, n) => `line ${n}\n`).join('');
    expect(await read()).toBe(all);
    expect(await read({ tailLines: 25 })).toBe(all.split('\n').slice(15).join('\n'));
    expect(await read({ tailLines: 0 })).toBe('');
    expect(await read({ tailLines: 1000 })).toBe(all);
    const since = BigInt(second(37).getTime()) * 1_000_000n;
    expect(await read({ sinceNanos: since })).toBe('line 37\nline 38\nline 39\n');
    expect(await read({ limitBytes: 10 })).toBe('line 0\nlin');
    expect(await read({ tailLines: 2, timestamps: true, limitBytes: 25 })).toBe('2026-01-02T03:04:38Z line');
  });

  test('output comes in bounded chunks', async () => {
    const writer = new CriLogWriter(path, { maxSizeBytes: 10 << 20, maxFiles: 2 });
    for (let n = 0; n < 2000; n++) writer.write('stdout', encode(`${'y'.repeat(100)} ${n}\n`));
    await writer.close();
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of readCriLog(path, { chunkBytes: 4096 })) {
      chunks++;
      bytes += chunk.length;
      expect(chunk.length).toBeLessThan(4096 + 200);
    }
    expect(chunks).toBeGreaterThan(40);
    expect(bytes).toBeGreaterThan(200_000);
  });

  test('follow: reads as the log grows, across rotations, until the writer is done and the log drained', async () => {
    const writer = new CriLogWriter(path, { maxSizeBytes: 150, maxFiles: 3 });
    writeLines(writer, 0, 3);
    let writing = true;
    let text = '';
    const follower = (async () => {
      for await (const chunk of readCriLog(path, { follow: true, stillWriting: () => writing, recheckMs: 50 })) text += chunk.toString();
    })();
    await until(() => text === 'line 0\nline 1\nline 2\n', 'the first lines');
    // A few lines at a time, each batch rotating the file, read before the next batch is written
    // (the follower must not lose what was in a file before its rename).
    for (let batch = 0; batch < 5; batch++) {
      writeLines(writer, 3 + batch * 4, 7 + batch * 4);
      await until(() => text.endsWith(`line ${6 + batch * 4}\n`), `batch ${batch}`);
    }
    expect(writer.stats().rotations).toBeGreaterThanOrEqual(3);
    writeLines(writer, 23, 25);
    await writer.close();
    writing = false;
    await follower;
    expect(text).toBe(Array.from({ length: 25 }, (_, n) => `line ${n}\n`).join(''));
  });

  test('follow of a log not written yet waits for it; an abort ends it', async () => {
    const aborted = new AbortController();
    let text = '';
    const follower = (async () => {
      for await (const chunk of readCriLog(path, { follow: true, signal: aborted.signal, recheckMs: 50 })) text += chunk.toString();
    })();
    const writer = new CriLogWriter(path, { maxSizeBytes: 1 << 20, maxFiles: 2 });
    writer.write('stdout', encode('first\n'));
    await until(() => text === 'first\n', 'the first line');
    aborted.abort();
    await follower;
    await writer.close();
  });

  test('follow with tailLines starts from the tail', async () => {
    const writer = new CriLogWriter(path, { maxSizeBytes: 1 << 20, maxFiles: 2 });
    writeLines(writer, 0, 5);
    let writing = true;
    let text = '';
    const follower = (async () => {
      for await (const chunk of readCriLog(path, { follow: true, tailLines: 2, stillWriting: () => writing, recheckMs: 50 })) text += chunk.toString();
    })();
    await until(() => text === 'line 3\nline 4\n', 'the tail');
    writeLines(writer, 5, 6);
    await until(() => text.endsWith('line 5\n'), 'a new line');
    writing = false;
    await follower;
    await writer.close();
  });
});
