import { compareBytes, EMPTY_BYTES } from './bytes.js';
import { ERR_COMPACTED, ERR_FUTURE_REV, fail } from './errors.js';
import { keySpan, type KeySpan } from './key_span.js';
import type { StoreState } from './store_state.js';
import type { KeyValue, RangeRequest, RangeResponse, SortTarget } from './types.js';

/**
 * etcd's mvcc rangeKeys: the values live at `revision` (<= 0: `currentRevision`) in `span`, at most
 * `limit` of them (0: all), and how many there are in all. Refuses a future or compacted revision.
 */
export function rangeKeys(
  state: StoreState,
  span: KeySpan,
  currentRevision: number,
  options: { revision: number; limit: number; countOnly: boolean },
): { kvs: KeyValue[]; count: number } {
  let revision = options.revision;
  if (revision > currentRevision) fail(ERR_FUTURE_REV);
  if (revision <= 0) revision = currentRevision;
  if (revision < state.compactRevision) fail(ERR_COMPACTED);

  const kvs: KeyValue[] = [];
  let count = 0;
  state.index.forEachIn(span, (history) => {
    const kv = history.get(revision);
    if (kv === undefined) return;
    count++;
    if (!options.countOnly && (options.limit <= 0 || kvs.length < options.limit)) kvs.push(kv);
  });
  return { kvs, count };
}

const sortKeys: Record<SortTarget, (a: KeyValue, b: KeyValue) => number> = {
  KEY: (a, b) => compareBytes(a.key, b.key),
  VERSION: (a, b) => a.version - b.version,
  CREATE: (a, b) => a.createRevision - b.createRevision,
  MOD: (a, b) => a.modRevision - b.modRevision,
  VALUE: (a, b) => compareBytes(a.value, b.value),
};

/**
 * A RangeRequest as etcd's applier runs it (etcdserver/apply.go). The order matters and is etcd's:
 * the mvcc read is limited to limit+1 (to learn `more`) unless a sort order or a min/max filter is
 * given, in which case every key is read; then the filters; then the sort, where a sortTarget other
 * than KEY with sortOrder NONE means ASCEND (but, as in etcd, only after that limit+1 read); then the
 * limit. `count` is the mvcc count: every key in the range, before filters and limit.
 *
 * Ties keep ascending key order in both directions: a stable sort with the comparison reversed,
 * which is what etcd's sort.Sort(sort.Reverse(…)) yields for up to 12 keys (Go's insertion sort).
 */
export function applyRange(state: StoreState, r: RangeRequest, currentRevision: number): RangeResponse {
  const limit = r.limit ?? 0;
  const sortOrder = r.sortOrder ?? 'NONE';
  const sortTarget = r.sortTarget ?? 'KEY';
  const minMod = r.minModRevision ?? 0;
  const maxMod = r.maxModRevision ?? 0;
  const minCreate = r.minCreateRevision ?? 0;
  const maxCreate = r.maxCreateRevision ?? 0;

  let readLimit = limit;
  if (sortOrder !== 'NONE' || minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0) readLimit = 0;
  if (readLimit > 0) readLimit++;

  const result = rangeKeys(state, keySpan(r.key, r.rangeEnd), currentRevision, {
    revision: r.revision ?? 0,
    limit: readLimit,
    countOnly: r.countOnly ?? false,
  });

  let kvs = result.kvs.filter(
    (kv) =>
      (maxMod === 0 || kv.modRevision <= maxMod) &&
      (minMod === 0 || kv.modRevision >= minMod) &&
      (maxCreate === 0 || kv.createRevision <= maxCreate) &&
      (minCreate === 0 || kv.createRevision >= minCreate),
  );

  const order = sortTarget !== 'KEY' && sortOrder === 'NONE' ? 'ASCEND' : sortOrder;
  if (order !== 'NONE') {
    const compare = sortKeys[sortTarget];
    kvs.sort(order === 'ASCEND' ? compare : (a, b) => compare(b, a));
  }

  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY_BYTES }));
  return { kvs, more, count: result.count, revision: currentRevision };
}
