import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { RaftStorage } from './index.js';
import { capturingLogger, entry, temporaryDirectory } from './testing/fixtures.js';

// The child runs compiled JavaScript: build first (`npx tsc -b`), as `pnpm test` does.
const childScript = fileURLToPath(new URL('../dist/testing/crash_writer.js', import.meta.url));

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface CrashRun {
  readonly started: number;
  readonly acked: number[];
}

/** Runs the writer until it has acknowledged `killAfterAcks` saves, then SIGKILLs it mid-stream. */
function runAndKill(dir: string, killAfterAcks: number): Promise<CrashRun> {
  return new Promise((resolve, reject) => {
    const child = fork(childScript, [dir, '8'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let started = 0;
    const acked: number[] = [];
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('message', (message: { started?: number; acked?: number }) => {
      if (message.started !== undefined) started = message.started;
      if (message.acked !== undefined) acked.push(message.acked);
      if (acked.length === killAfterAcks) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}/${signal} before the kill: ${stderr}`));
      else resolve({ started, acked });
    });
  });
}

test('every save acknowledged before a SIGKILL is there after reopening, across repeated crashes', async () => {
  expect(existsSync(childScript), `${childScript} is missing: run \`npx tsc -b\` first`).toBe(true);
  const dir = await temporaryDirectory();
  dirs.push(dir);
  const everAcked = new Set<number>();
  let expectedStart = 1;

  for (const killAfterAcks of [300, 150]) {
    const run = await runAndKill(dir, killAfterAcks);
    expect(run.started).toBe(expectedStart); // the child resumed right after what the last recovery found
    expect(run.acked.length).toBeGreaterThanOrEqual(killAfterAcks);
    for (const index of run.acked) everAcked.add(index);

    const storage = await RaftStorage.open(dir, { logger: capturingLogger().logger });
    const state = storage.load();
    const recovered = new Map(state.entries.map((each) => [each.index, each]));
    const lost = [...everAcked].filter((index) => !recovered.has(index));
    expect(lost, 'acknowledged saves missing after the crash').toEqual([]);
    for (const index of everAcked) expect(recovered.get(index)).toEqual(entry(index, 1, 200));
    expect(state.entries[0]?.index).toBe(1);
    expect(state.hardState.commit).toBeGreaterThanOrEqual(Math.max(...everAcked));
    expectedStart = (state.entries.at(-1)?.index ?? 0) + 1;
    await storage.close();
  }
});
