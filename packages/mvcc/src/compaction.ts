import { ERR_COMPACTED, ERR_FUTURE_REV, fail } from './errors.js';
import { keyBytes, revisionBytes } from './snapshot_layout.js';
import type { StoreState } from './store_state.js';

/**
 * etcd's Compact, done at once rather than in the background: refuses a revision at or below the
 * last compaction (compacted) or beyond the current one (future); otherwise forgets, for every key,
 * what no range at or after `revision` can see, and drops older changes from the watch history.
 * Costs one pass over every key, as etcd's index compaction does.
 */
export function compact(state: StoreState, revision: number): void {
  if (!Number.isSafeInteger(revision)) throw new TypeError(`compaction revision ${revision} is not an integer`);
  if (revision <= state.compactRevision) fail(ERR_COMPACTED);
  if (revision > state.currentRevision) fail(ERR_FUTURE_REV);
  state.compactRevision = revision;
  state.index.forEach((history) => {
    for (const keeper of state.keepers) keeper.keep(history);
    for (const dropped of history.compact(revision)) state.dataBytes -= revisionBytes(dropped);
    if (history.isEmpty()) {
      state.index.delete(history.keyString);
      state.dataBytes -= keyBytes(history.key);
    }
  });
  state.log.dropBefore(revision);
}
