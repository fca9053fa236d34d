import { invariant } from '@k8ts/base';

export enum ProgressState {
  /** Unsure where the follower's log ends: one append at a time until it answers. */
  Probe = 'probe',
  /** The follower keeps up: appends are pipelined, bounded by the in-flight window. */
  Replicate = 'replicate',
  /** The follower needs the snapshot; nothing else is sent until it has it. */
  Snapshot = 'snapshot',
}

/** The bounded window of appends sent to one follower and not yet acknowledged. */
export class Inflights {
  private readonly items: { lastIndex: number; bytes: number }[] = [];
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {
    invariant(maxMessages > 0, 'the in-flight window must hold at least one message');
  }

  add(lastIndex: number, bytes: number): void {
    const last = this.items[this.items.length - 1];
    invariant(last === undefined || lastIndex > last.lastIndex, 'in-flight appends must move forward');
    invariant(!this.full(), 'adding to a full in-flight window');
    this.items.push({ lastIndex, bytes });
    this.bytes += bytes;
  }

  /** The follower acknowledged everything up to `index`. */
  freeTo(index: number): void {
    while (this.items.length > 0 && (this.items[0]?.lastIndex ?? Infinity) <= index) this.freeFirst();
  }

  freeFirst(): void {
    const first = this.items.shift();
    if (first !== undefined) this.bytes -= first.bytes;
  }

  full(): boolean {
    return this.items.length >= this.maxMessages || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  count(): number {
    return this.items.length;
  }

  reset(): void {
    this.items.length = 0;
    this.bytes = 0;
  }
}

/** What the leader knows of one follower's log. */
export class Progress {
  match = 0;
  next: number;
  state = ProgressState.Probe;
  /** Probe state: an append is out and unanswered. */
  probeSent = false;
  /** Snapshot state: the index of the snapshot sent, and the tick it was sent at. */
  pendingSnapshot = 0;
  snapshotSentAtTick = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** The commit index in the last append or heartbeat sent (etcd's sentCommit). */
  sentCommit = 0;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMessages: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.resetState(ProgressState.Probe);
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState(ProgressState.Replicate);
  }

  becomeSnapshot(snapshotIndex: number, tick: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.snapshotSentAtTick = tick;
  }

  /**
   * Whether an append carrying commit index `commit` may move the follower's: it has not been sent
   * it, nor one that takes it as far as it holds (a follower commits at most what it holds, next - 1).
   */
  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** An acknowledgement up to `index`; false if it tells nothing new. */
  maybeUpdate(index: number): boolean {
    const updated = index > this.match;
    if (updated) {
      this.match = index;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append whose previous index was `rejected`; `probeFrom` is where the
   * leader's log may agree with the follower's. False when the rejection is stale.
   */
  maybeDecreaseTo(rejected: number, probeFrom: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
    } else {
      if (this.next - 1 !== rejected) return false;
      this.next = Math.max(Math.min(rejected, probeFrom + 1), this.match + 1);
      this.probeSent = false;
    }
    // What was sent may not have been taken: let the commit index go again (as etcd does).
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }

  /** Bookkeeping after sending an append whose last entry is `lastIndex`. */
  sentEntries(lastIndex: number, count: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else {
      this.probeSent = true;
    }
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
