import { invariant } from '@k8ts/base';
import { copyBytes, toKeyString } from './bytes.js';
import { toEvent, type Change } from './change_log.js';
import { tombstoneKeyValue, type KeyHistory, type StoredRevision } from './key_history.js';
import type { KeySpan } from './key_span.js';
import { applyRange } from './range.js';
import { keyBytes, revisionBytes } from './snapshot_layout.js';
import type { StoreState } from './store_state.js';
import type { Event, KeyValue, LeaseId, RangeRequest, RangeResponse } from './types.js';

/**
 * The writes of one request, all at one main revision (etcd's storeTxnWrite). Writes land in the key
 * histories at once, at currentRevision+1 with increasing sub revisions, so later reads in the same
 * txn see them; currentRevision moves only in end(), and only if something was written. Callers
 * check everything that could fail before the first write: nothing here refuses a request.
 */
export class WriteTxn {
  private readonly beginRevision: number;
  private readonly changes: Change[] = [];
  private ended = false;

  constructor(private readonly state: StoreState) {
    this.beginRevision = state.currentRevision;
  }

  /** The revision every write of this txn gets. */
  get writeRevision(): number {
    return this.beginRevision + 1;
  }

  /** What a read inside this txn sees: the txn's own writes once there are any. */
  get readRevision(): number {
    return this.changes.length > 0 ? this.beginRevision + 1 : this.beginRevision;
  }

  get changed(): boolean {
    return this.changes.length > 0;
  }

  range(r: RangeRequest): RangeResponse {
    return applyRange(this.state, r, this.readRevision);
  }

  /** The value of `key` as this txn sees it. */
  get(key: Uint8Array): KeyValue | undefined {
    return this.state.index.get(toKeyString(key))?.get(this.readRevision);
  }

  put(key: Uint8Array, value: Uint8Array, lease: LeaseId): void {
    invariant(!this.ended, 'write txn: put after end');
    const keyString = toKeyString(key);
    const { index, lessor } = this.state;
    invariant(lease === '0' || lessor.has(lease), () => `write txn: put with unknown lease ${lease}`);
    let history = index.get(keyString);
    if (history === undefined) {
      history = index.ensure(copyBytes(key), keyString);
      this.state.dataBytes += keyBytes(history.key);
    }
    const main = this.writeRevision;
    const previous = history.get(main);
    const kv: KeyValue = {
      key: history.key,
      createRevision: previous?.createRevision ?? main,
      modRevision: main,
      version: (previous?.version ?? 0) + 1,
      value: copyBytes(value),
      lease,
    };
    this.record(history, { main, sub: this.changes.length, tombstone: false, kv });

    // The key's attachment follows its current value (etcd detaches the old lease, attaches the new).
    const oldLease = lessor.leaseOf(keyString);
    if (oldLease !== '0') lessor.detach(oldLease, keyString);
    if (lease !== '0') lessor.attach(lease, keyString);
  }

  /** Deletes every key live in `span`; returns how many. */
  deleteRange(span: KeySpan): number {
    invariant(!this.ended, 'write txn: delete after end');
    const at = this.readRevision;
    const live: KeyHistory[] = [];
    this.state.index.forEachIn(span, (history) => {
      if (history.get(at) !== undefined) live.push(history);
    });
    for (const history of live) this.tombstone(history);
    return live.length;
  }

  /** Closes the txn: the revision moves if anything was written. Returns the events, in order. */
  end(): Event[] {
    invariant(!this.ended, 'write txn: ended twice');
    this.ended = true;
    if (this.changes.length === 0) return [];
    this.state.currentRevision = this.writeRevision;
    return this.changes.map((change) => toEvent(change, this.state.compactRevision));
  }

  private tombstone(history: KeyHistory): void {
    const main = this.writeRevision;
    const kv = tombstoneKeyValue(history.key, main);
    this.record(history, { main, sub: this.changes.length, tombstone: true, kv });
    const lease = this.state.lessor.leaseOf(history.keyString);
    if (lease !== '0') this.state.lessor.detach(lease, history.keyString);
  }

  private record(history: KeyHistory, revision: StoredRevision): void {
    history.append(revision);
    const change = { history, revision };
    this.changes.push(change);
    this.state.log.append(change);
    this.state.dataBytes += revisionBytes(revision);
  }
}
