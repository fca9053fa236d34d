import { writeSync } from 'node:fs';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export const TEMP_SUFFIX = '.tmp';

/**
 * Makes a directory's entries (files created, renamed or removed in it) durable. Without it a crash
 * can forget that a fully synced file exists under its new name.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes all of `bytes` at `position`, looping over short writes. */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} with ${bytes.length - written} bytes left`);
    written += bytesWritten;
  }
}

/**
 * `writeFully` done synchronously on the calling thread. For the WAL's appends: a write into the page
 * cache takes microseconds, less than handing it to libuv's thread pool and back, and the fdatasync
 * that follows (the slow part) stays asynchronous.
 */
export function writeFullySync(handle: FileHandle, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) {
    const bytesWritten = writeSync(handle.fd, bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} with ${bytes.length - written} bytes left`);
    written += bytesWritten;
  }
}

/**
 * Atomically puts `bytes` at `dir/name`: a temporary file, fsync, rename over the name, fsync of the
 * directory. A crash leaves either no file by that name or the whole file, never a prefix.
 */
export async function writeFileAtomically(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dir, name + TEMP_SUFFIX);
  const handle = await open(temporary, 'w');
  try {
    await writeFully(handle, bytes, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, join(dir, name));
  await fsyncDirectory(dir);
}

/** Leftovers of atomic writes a crash interrupted; they never got their real name, so nobody needs them. */
export async function removeTemporaryFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(TEMP_SUFFIX));
  for (const name of names) await rm(join(dir, name), { force: true });
  return names;
}
