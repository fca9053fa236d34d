import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { freePorts } from './cluster.js';
import { isRunning, launchProcess, pidAlive, signalAndWait, stopPids, waitForExit, waitHealthy } from './launcher.js';

const node = process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A node process that serves 200 on `port` once it has printed a line. */
const server = (port: number): string[] => [
  '-e',
  `console.log('starting'); require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1');`,
];

describe('the process launcher', () => {
  test('captures stdout and stderr into its owner, keeping the last characters', async () => {
    const owner = { log: 'an earlier run\n' };
    const run = async (script: string): Promise<void> => {
      const child = launchProcess(node, ['-e', script], { output: { into: owner, limitChars: 20 } });
      await new Promise((done) => child.once('close', done)); // exited, its output read to the end
    };
    await run("process.stdout.write('x'.repeat(50))");
    expect(owner.log).toBe('x'.repeat(20));
    await run("process.stderr.write('ERR')");
    expect(owner.log).toBe(`${'x'.repeat(17)}ERR`);
  });

  test('appends output to a file', async () => {
    const file = join(dir, 'out.log');
    for (const word of ['one', 'two']) await waitForExit(launchProcess(node, ['-e', `console.log('${word}')`], { output: { file } }));
    expect(readFileSync(file, 'utf8')).toBe('one\ntwo\n');
  });

  test('waits until the health URL answers', async () => {
    const [port] = await freePorts(1);
    const owner = { log: '' };
    const child = launchProcess(node, server(port ?? 0), { output: { into: owner, limitChars: 1000 } });
    await waitHealthy(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 20_000, process: child });
    expect(owner.log).toContain('starting');
    await signalAndWait(child, 'SIGTERM');
    expect(child.signalCode).toBe('SIGTERM');
    expect(isRunning(child)).toBe(false);
  });

  test('a process that exits before it is healthy ends the wait at once, with why and its log', async () => {
    const [port] = await freePorts(1);
    const owner = { log: '' };
    const child = launchProcess(node, ['-e', "console.error('bad flag'); process.exit(2)"], { output: { into: owner, limitChars: 1000 } });
    await expect(waitHealthy(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 600_000, name: 'thing', process: child, log: () => owner.log })).rejects.toThrow(
      /^thing \(http:\/\/127\.0\.0\.1:\d+\/healthz\) exited with code 2 before it was healthy:\nbad flag/,
    );
  });

  test('a binary that does not exist fails the wait instead of crashing the launcher', async () => {
    const owner = { log: '' };
    const child = launchProcess(join(dir, 'no-such-binary'), [], { output: { into: owner, limitChars: 1000 } });
    expect(isRunning(child)).toBe(false);
    await expect(waitHealthy('http://127.0.0.1:1/healthz', { timeoutMs: 600_000, process: child })).rejects.toThrow('did not start');
    await waitForExit(child);
    await new Promise((done) => setImmediate(done));
    expect(owner.log).toContain('ENOENT');
  });

  test('a URL that never answers fails at the deadline', async () => {
    const [port] = await freePorts(1);
    await expect(waitHealthy(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 300 })).rejects.toThrow(`(http://127.0.0.1:${port}/healthz) not healthy within 300 ms`);
  });

  test('stopPids: SIGTERM, then SIGKILL for one that ignores it', async () => {
    const stubborn = launchProcess(node, ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"], { output: { into: { log: '' }, limitChars: 100 } });
    const polite = launchProcess(node, ['-e', 'setInterval(() => {}, 1000)'], { output: { into: { log: '' }, limitChars: 100 } });
    await new Promise((done) => stubborn.stdout?.once('data', done)); // its SIGTERM handler is in place
    const pids = [stubborn.pid ?? 0, polite.pid ?? 0];
    await stopPids(pids, 300);
    await Promise.all([waitForExit(stubborn), waitForExit(polite)]);
    expect([stubborn.signalCode, polite.signalCode]).toEqual(['SIGKILL', 'SIGTERM']);
    expect(pids.some(pidAlive)).toBe(false);
  });

  test('pids that name process groups are never alive, so never signalled', async () => {
    expect([pidAlive(0), pidAlive(-1), pidAlive(Number.NaN)]).toEqual([false, false, false]);
    expect(pidAlive(process.pid)).toBe(true);
    await stopPids([0, -1], 0); // must not signal this process's group or every process
  });
});
