import { ChangeLog } from './change_log.js';
import { KeyIndex } from './key_index.js';
import { Lessor } from './lessor.js';

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
}
