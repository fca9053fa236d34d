import type { Snapshot } from '@k8ts/raft';
import { readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DecodeError } from '../binary.js';
import { fsyncDirectory, writeFileAtomically } from '../durable_fs.js';
import { invariant } from '../errors.js';
import {
  decodeSnapshotFile,
  encodeSnapshotFile,
  parseSnapshotFileName,
  snapshotFileName,
  type SnapshotId,
} from './snapshot_file.js';

export const BROKEN_SUFFIX = '.broken';

/** The `snap` directory: whole snapshot files, written atomically, read back with their CRC checked. */
export class SnapshotDirectory {
  constructor(readonly dir: string) {}

  /** Snapshot files present, newest (highest index) first. Other names are ignored. */
  async list(): Promise<SnapshotId[]> {
    const ids = (await readdir(this.dir)).flatMap((name) => parseSnapshotFileName(name) ?? []);
    return ids.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /** Throws `DecodeError` when the file is damaged or does not hold the snapshot its name says. */
  async read(id: SnapshotId): Promise<Snapshot> {
    const snapshot = decodeSnapshotFile(await readFile(this.path(id)));
    if (snapshot.meta.index !== id.index || snapshot.meta.term !== id.term) {
      throw new DecodeError(`holds snapshot ${snapshot.meta.index}/${snapshot.meta.term}, not the one its name says`);
    }
    return snapshot;
  }

  async write(snapshot: Snapshot): Promise<void> {
    await writeFileAtomically(this.dir, snapshotFileName(snapshot.meta), encodeSnapshotFile(snapshot));
  }

  /** Keeps a damaged file for inspection, under a name recovery no longer looks at. */
  async markBroken(id: SnapshotId): Promise<void> {
    const name = snapshotFileName(id);
    await rename(join(this.dir, name), join(this.dir, name + BROKEN_SUFFIX));
    await fsyncDirectory(this.dir);
  }

  async remove(ids: readonly SnapshotId[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) await rm(this.path(id), { force: true });
    await fsyncDirectory(this.dir);
  }

  /** Removes all but the `count` newest snapshot files; returns what it removed. */
  async retainNewest(count: number): Promise<SnapshotId[]> {
    invariant(Number.isInteger(count) && count >= 1, () => `must keep at least one snapshot, not ${count}`);
    const stale = (await this.list()).slice(count);
    await this.remove(stale);
    return stale;
  }

  fileName(id: SnapshotId): string {
    return snapshotFileName(id);
  }

  private path(id: SnapshotId): string {
    return join(this.dir, snapshotFileName(id));
  }
}
