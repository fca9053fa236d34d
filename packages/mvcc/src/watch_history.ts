import { invariant } from '@k8ts/base';
import { toEvent } from './change_log.js';
import { keySpan, spanContains } from './key_span.js';
import type { StoreState } from './store_state.js';
import type { Event } from './types.js';

/** etcd's watchBatchMaxRevs: how many revisions one catch-up batch carries by default. */
export const DEFAULT_MAX_REVISIONS_PER_BATCH = 1000;

/**
 * The answer to "what happened to these keys since startRevision":
 *  - compacted: the history a watcher needs is gone; etcd cancels such a watch and reports
 *    compactRevision (the watch response's compact_revision).
 *  - events: the changes in revision order, then nextRevision, the revision to ask from next time
 *    (currentRevision + 1 once caught up; a watcher is then fed by the events of each write).
 */
export type WatchHistory =
  | { readonly compacted: true; readonly compactRevision: number }
  | { readonly compacted: false; readonly events: Event[]; readonly nextRevision: number };

/**
 * Changes to the keys of (key, rangeEnd) at revisions >= startRevision. As in etcd's watchable store,
 * a start before the compaction revision is compacted, and a start at it is not: every write at the
 * compaction revision is still stored. A start <= 0 means "from now": nothing yet. At most
 * maxRevisions revisions are returned, whole (a txn's events never split across batches).
 */
export function eventsSince(
  state: StoreState,
  startRevision: number,
  key: Uint8Array,
  rangeEnd: Uint8Array | undefined,
  maxRevisions: number = DEFAULT_MAX_REVISIONS_PER_BATCH,
): WatchHistory {
  invariant(Number.isInteger(maxRevisions) && maxRevisions >= 1, () => `eventsSince: maxRevisions ${maxRevisions}`);
  if (startRevision <= 0) return { compacted: false, events: [], nextRevision: state.currentRevision + 1 };
  if (startRevision < state.compactRevision) return { compacted: true, compactRevision: state.compactRevision };
  const span = keySpan(key, rangeEnd);
  const events: Event[] = [];
  let revisions = 0;
  let lastMain = 0;
  for (const change of state.log.since(startRevision)) {
    if (!spanContains(span, change.history.keyString)) continue;
    const main = change.revision.main;
    if (main !== lastMain) {
      if (revisions === maxRevisions) return { compacted: false, events, nextRevision: main };
      revisions++;
      lastMain = main;
    }
    events.push(toEvent(change, state.compactRevision));
  }
  return { compacted: false, events, nextRevision: Math.max(startRevision, state.currentRevision + 1) };
}
