import type { Snapshot } from '@k8ts/raft';
import { join } from 'node:path';
import { DecodeError } from '../binary.js';
import { writeFileAtomically } from '../durable_fs.js';
import { invariant } from '../errors.js';
import { nodeFs, type StorageFs } from '../storage_fs.js';
import {
  decodeSnapshotFile,
  parseSnapshotFileName,
  snapshotFileName,
  snapshotFileParts,
  type SnapshotId,
} from './snapshot_file.js';

export const BROKEN_SUFFIX = '.broken';

/** The `snap` directory: whole snapshot files, written atomically, read back with their CRC checked. */
export class SnapshotDirectory {
  constructor(
    readonly dir: string,
    private readonly fs: StorageFs = nodeFs,
  ) {}

  /** Snapshot files present, newest (highest index) first. Other names are ignored. */
  async list(): Promise<SnapshotId[]> {
    const ids = (await this.fs.readdir(this.dir)).flatMap((name) => parseSnapshotFileName(name) ?? []);
    return ids.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /** Throws `DecodeError` when the file is damaged or does not hold the snapshot its name says. */
  async read(id: SnapshotId): Promise<Snapshot> {
    const snapshot = decodeSnapshotFile(await this.fs.readFile(this.path(id)));
    if (snapshot.meta.index !== id.index || snapshot.meta.term !== id.term) {
      throw new DecodeError(`holds snapshot ${snapshot.meta.index}/${snapshot.meta.term}, not the one its name says`);
    }
    return snapshot;
  }

  async write(snapshot: Snapshot): Promise<void> {
    await writeFileAtomically(this.fs, this.dir, snapshotFileName(snapshot.meta), await snapshotFileParts(snapshot));
  }

  /** Keeps a damaged file for inspection, under a name recovery no longer looks at. */
  async markBroken(id: SnapshotId): Promise<void> {
    const name = snapshotFileName(id);
    await this.fs.rename(join(this.dir, name), join(this.dir, name + BROKEN_SUFFIX));
    await this.fs.fsyncDirectory(this.dir);
  }

  async remove(ids: readonly SnapshotId[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) await this.fs.rm(this.path(id));
    await this.fs.fsyncDirectory(this.dir);
  }

  /**
   * Removes all but the `count` newest snapshot files at or below `durableIndex` (the snapshot just
   * made durable); returns what it removed. Newer files belong to snapshots still being saved: counting
   * them could remove the durable one before they are acknowledged.
   */
  async retainNewest(count: number, durableIndex: number): Promise<SnapshotId[]> {
    invariant(Number.isInteger(count) && count >= 1, () => `must keep at least one snapshot, not ${count}`);
    const stale = (await this.list()).filter((id) => id.index <= durableIndex).slice(count);
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
