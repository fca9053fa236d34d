/**
 * `k8ts logs [PART] [-f]` and `k8ts logs --bundle FILE`: a part is a process of the local cluster,
 * its log `DIR/logs/<part>.log` (kept after `down`, so a stopped cluster's logs still read). The
 * bundle is a .tar.gz for a bug report: every part's log, `k8ts status`'s text, and the state and
 * settings files (packed with the system's tar: no tar package is in the workspace).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { collectStatus } from './cluster_status.js';
import { logsDir, readState, settingsFile, stateFile } from './cluster_state.js';

export interface PartLog {
  readonly name: string;
  readonly log: string;
}

/** The parts with a log: the state file's order first, then any other log in DIR/logs. */
export function partLogs(dir: string): PartLog[] {
  const parts: PartLog[] = (readState(dir)?.processes ?? []).map((p) => ({ name: p.name, log: p.log }));
  const folder = logsDir(dir);
  const files = existsSync(folder) ? readdirSync(folder).filter((file) => file.endsWith('.log')).sort() : [];
  for (const file of files) {
    const name = basename(file, '.log');
    if (!parts.some((part) => part.name === name)) parts.push({ name, log: join(folder, file) });
  }
  return parts;
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

function formatKiB(bytes: number | undefined): string {
  return bytes === undefined ? 'missing' : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function formatPartList(parts: readonly PartLog[], size: (file: string) => number | undefined = sizeOf): string[] {
  return [`${'PART'.padEnd(22)} ${'SIZE'.padStart(12)}  LOG`, ...parts.map((part) => `${part.name.padEnd(22)} ${formatKiB(size(part.log)).padStart(12)}  ${part.log}`)];
}

function findPart(dir: string, name: string): PartLog {
  const parts = partLogs(dir);
  const part = parts.find((candidate) => candidate.name === name);
  if (part === undefined) {
    throw new Error(parts.length === 0 ? `no logs in ${dir} (no cluster was started there)` : `no part named ${JSON.stringify(name)} in ${dir}: one of ${parts.map((p) => p.name).join(', ')}`);
  }
  return part;
}

/** Copies `file` from `offset` to stdout; resolves to the offset reached. */
async function copyFrom(file: string, offset: number): Promise<number> {
  const size = sizeOf(file) ?? 0;
  if (size <= offset) return size < offset ? 0 : offset; // truncated (rotated): start over
  await new Promise<void>((done, fail) => {
    const stream = createReadStream(file, { start: offset, end: size - 1 });
    stream.on('error', fail);
    stream.on('end', done);
    stream.pipe(process.stdout, { end: false });
  });
  return size;
}

/** Prints a part's log; with `follow`, keeps printing what is appended until interrupted (as `tail -f`). */
async function showLog(part: PartLog, follow: boolean): Promise<void> {
  let offset = await copyFrom(part.log, 0);
  while (follow) {
    await delay(250);
    offset = await copyFrom(part.log, offset);
  }
}

/** Writes the bundle; returns what it holds. */
export async function writeBundle(dir: string, file: string): Promise<{ file: string; logs: number; bytes: number }> {
  const staging = mkdtempSync(join(tmpdir(), 'k8ts-bundle-'));
  const name = `k8ts-bundle-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const root = join(staging, name);
  try {
    mkdirSync(join(root, 'logs'), { recursive: true });
    const parts = partLogs(dir).filter((part) => existsSync(part.log));
    for (const part of parts) copyFileSync(part.log, join(root, 'logs', `${part.name}.log`));
    const report = await collectStatus(dir).catch((error: unknown) => ({ lines: [`status not collected: ${(error as Error).message}`], healthy: false }));
    writeFileSync(join(root, 'status.txt'), `${report === undefined ? `no cluster state in ${dir} (stopped)` : report.lines.join('\n')}\n`);
    for (const source of [stateFile(dir), settingsFile(dir)]) if (existsSync(source)) copyFileSync(source, join(root, basename(source)));
    await run('tar', ['-czf', file, '-C', staging, name]);
    return { file, logs: parts.length, bytes: sizeOf(file) ?? 0 };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'ENOENT' ? new Error(`${command} is not on PATH: install it: apt-get install ${command}`) : error),
    );
    child.on('close', (code) => (code === 0 ? done() : fail(new Error(`${command} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`))));
  });
}

export async function logs(part: string | undefined, options: { dir: string; follow: boolean; bundle?: string }): Promise<void> {
  const dir = resolve(options.dir);
  if (options.bundle !== undefined) {
    if (part !== undefined) throw new Error('--bundle packs every part: give no PART with it');
    const bundle = await writeBundle(dir, resolve(options.bundle));
    console.log(`wrote ${bundle.file} (${bundle.logs} logs, status, state; ${formatKiB(bundle.bytes)})`);
    return;
  }
  if (part === undefined) {
    if (options.follow) throw new Error('-f follows one part: k8ts logs PART -f');
    const parts = partLogs(dir);
    if (parts.length === 0) throw new Error(`no logs in ${dir} (no cluster was started there)`);
    console.log(formatPartList(parts).join('\n'));
    console.log(`\nk8ts logs PART [-f] prints one; k8ts logs --bundle FILE packs them all`);
    return;
  }
  await showLog(findPart(dir, part), options.follow);
}
