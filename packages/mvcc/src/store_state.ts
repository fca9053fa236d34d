import { ChangeLog } from './change_log.js';
import type { KeyHistory } from './key_history.js';
import { KeyIndex } from './key_index.js';
import { Lessor } from './lessor.js';

/** A snapshot being encoded: compaction hands it a key's revisions before cutting them (snapshot.ts). */
export interface RevisionKeeper {
  keep(history: KeyHistory): void;
}

/** The whole replicated state; the store's modules read and write it, one command at a time. */
export class StoreState {
  readonly index = new KeyIndex();
  readonly lessor = new Lessor();
  readonly log = new ChangeLog();
  /** etcd starts an empty store at revision 1; the first write is revision 2. */
  currentRevision = 1;
  /** etcd's compactMainRev: -1 until the first compaction. */
  compactRevision = -1;
  /** Bytes of the key and lease sections of the snapshot layout, kept current by every write. */
  dataBytes = 0;
  /** Snapshots being encoded a step at a time (SnapshotEncoder). */
  readonly keepers = new Set<RevisionKeeper>();
}
