import { dirname, join, resolve } from 'node:path';
import type { StorageFile, StorageFs } from './storage_fs.js';

export const TEMP_SUFFIX = '.tmp';

/** Writes all of `bytes` at `position`, looping over short writes. */
export async function writeFully(file: StorageFile, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const bytesWritten = await file.write(bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} with ${bytes.length - written} bytes left`);
    written += bytesWritten;
  }
}

/**
 * `writeFully` done synchronously on the calling thread. For the WAL's appends: a write into the page
 * cache takes microseconds, less than handing it to libuv's thread pool and back, and the fdatasync
 * that follows (the slow part) stays asynchronous.
 */
export function writeFullySync(file: StorageFile, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) {
    const bytesWritten = file.writeSync(bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} with ${bytes.length - written} bytes left`);
    written += bytesWritten;
  }
}

/**
 * Atomically puts `parts`, one after another, at `dir/name`: a temporary file, fsync, rename over
 * the name, fsync of the directory. A crash leaves either no file by that name or the whole file,
 * never a prefix.
 */
export async function writeFileAtomically(fs: StorageFs, dir: string, name: string, parts: readonly Uint8Array[]): Promise<void> {
  const temporary = join(dir, name + TEMP_SUFFIX);
  const file = await fs.open(temporary, 'w');
  try {
    let position = 0;
    for (const part of parts) {
      await writeFully(file, part, position);
      position += part.length;
    }
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(temporary, join(dir, name));
  await fs.fsyncDirectory(dir);
}

/** Leftovers of atomic writes a crash interrupted; they never got their real name, so nobody needs them. */
export async function removeTemporaryFiles(fs: StorageFs, dir: string): Promise<string[]> {
  const names = (await fs.readdir(dir)).filter((name) => name.endsWith(TEMP_SUFFIX));
  for (const name of names) await fs.rm(join(dir, name));
  return names;
}

/**
 * mkdir -p whose new directories survive a power loss: each one created is an entry in its parent,
 * durable only once the parent is fsynced. Costs nothing when the directory already existed.
 */
export async function makeDirectoryDurably(fs: StorageFs, dir: string): Promise<void> {
  const firstCreated = await fs.mkdir(dir);
  if (firstCreated === undefined) return;
  const first = resolve(firstCreated);
  const parents: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    parents.push(dirname(at));
    if (at === first || at === dirname(at)) break;
  }
  parents.reverse(); // from the parent of the first directory created down to the parent of `dir`
  for (const parent of parents) await fs.fsyncDirectory(parent);
}
