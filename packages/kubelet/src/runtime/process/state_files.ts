/**
 * The runtime's records on disk, one JSON file per sandbox and per container, written to a temporary
 * name and renamed (a crash leaves the old record or the new one, never half of one) before the
 * runtime acknowledges the change.
 */
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function writeRecord(path: string, record: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  await writeFile(temporary, JSON.stringify(record, null, 1));
  await rename(temporary, path);
}

/** Every record `<root>/<id>/<file>` under `root`, skipping unreadable ones (reported to `onError`). */
export async function readRecords<T>(root: string, file: string, onError: (path: string, error: unknown) => void): Promise<T[]> {
  let ids: string[];
  try {
    ids = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: T[] = [];
  for (const id of ids) {
    const path = join(root, id, file);
    try {
      records.push(JSON.parse(await readFile(path, 'utf8')) as T);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onError(path, error);
    }
  }
  return records;
}
