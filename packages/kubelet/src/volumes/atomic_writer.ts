import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a volume's files so that a reader never sees half an update, as upstream's AtomicWriter:
 * the files live in a hidden timestamped folder `..<time>.<random>`, the `..data` symlink points at
 * the current one, and each top-level name is a symlink through `..data`. An update writes a new
 * folder, swaps `..data` with one rename(2), then removes names that went away and the old folder.
 */

export interface FileProjection {
  readonly data: Uint8Array;
  /** Permission bits (e.g. 0o644). */
  readonly mode: number;
}

/** Relative file path → content. */
export type Payload = ReadonlyMap<string, FileProjection>;

const DATA_LINK = '..data';
const DATA_LINK_TMP = '..data_tmp';

/** Writes `payload` into `dir`; resolves to false when nothing had changed (nothing was written). */
export async function writeAtomically(dir: string, payload: Payload): Promise<boolean> {
  for (const file of payload.keys()) validatePath(file);
  await mkdir(dir, { recursive: true });
  const oldTarget = await readlink(path.join(dir, DATA_LINK)).catch(() => undefined);
  if (oldTarget !== undefined && (await sameContent(path.join(dir, oldTarget), payload))) return false;

  const newTarget = `..${timestamp()}.${randomBytes(4).toString('hex')}`;
  const newDir = path.join(dir, newTarget);
  await mkdir(newDir, { mode: 0o755 });
  for (const [file, projection] of payload) {
    const full = path.join(newDir, file);
    await mkdir(path.dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, projection.data, { mode: projection.mode });
    await chmod(full, projection.mode); // the umask must not narrow the mode asked for
  }
  await rm(path.join(dir, DATA_LINK_TMP), { force: true });
  await symlink(newTarget, path.join(dir, DATA_LINK_TMP));
  await rename(path.join(dir, DATA_LINK_TMP), path.join(dir, DATA_LINK));

  const visible = new Set([...payload.keys()].map((file) => file.split('/')[0] ?? file));
  for (const name of visible) {
    const link = path.join(dir, name);
    const existing = await lstat(link).catch(() => undefined);
    if (existing === undefined) await symlink(path.join(DATA_LINK, name), link);
  }
  for (const name of await readdir(dir)) {
    if (name.startsWith('..') || visible.has(name)) continue;
    const entry = await lstat(path.join(dir, name));
    if (entry.isSymbolicLink()) await rm(path.join(dir, name));
  }
  if (oldTarget !== undefined && oldTarget !== newTarget) await rm(path.join(dir, oldTarget), { recursive: true, force: true });
  return true;
}

/** Upstream's path rules for projected files: relative, no `..` element, not starting with `..`. */
function validatePath(file: string): void {
  if (file === '') throw new Error('invalid path: must not be empty');
  if (path.isAbsolute(file)) throw new Error(`invalid path: must be relative path: ${file}`);
  if (file.split('/').includes('..')) throw new Error(`invalid path: must not contain '..': ${file}`);
  if (file.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${file}`);
}

async function sameContent(dataDir: string, payload: Payload): Promise<boolean> {
  const existing = await listFiles(dataDir).catch(() => undefined);
  if (existing === undefined || existing.length !== payload.size) return false;
  for (const file of existing) {
    const wanted = payload.get(file);
    if (wanted === undefined) return false;
    const full = path.join(dataDir, file);
    const [content, info] = await Promise.all([readFile(full), stat(full)]);
    if ((info.mode & 0o7777) !== wanted.mode || !content.equals(Buffer.from(wanted.data))) return false;
  }
  return true;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else files.push(relative);
  }
  return files;
}

function timestamp(): string {
  const now = new Date();
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
}
