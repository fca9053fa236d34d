import {
  EtcdError,
  type Applied,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type Event,
  type LeaseGrantResponse,
  type LeaseInfo,
  type LeaseRevokeResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
  type SnapshotEncoder,
} from '@k8ts/mvcc';
import { EntryType, decodeMembership, decodeMembershipContext, type Entry, type Snapshot } from '@k8ts/raft';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { binaryJsonHead, decodeBinaryJson } from './command_codec.js';
import type { Member } from './members.js';
import type { StateMachineSink } from '@k8ts/raft';
import { AppliedIndexWaiters, ApplyWaiters } from './wait.js';
import type { WatchHistory } from './watch_hub.js';

/** The replicated key-value store the state machine drives (packages/mvcc, adapted). */
export interface KeyValueStore extends WatchHistory {
  range(request: RangeRequest): RangeResponse;
  put(request: PutRequest): Applied<PutResponse>;
  deleteRange(request: DeleteRangeRequest): Applied<DeleteRangeResponse>;
  txn(request: TxnRequest): Applied<TxnResponse>;
  compact(request: CompactionRequest): CompactionResponse;
  leaseGrant(id: string, ttlSeconds: number): Applied<LeaseGrantResponse>;
  leaseRevoke(id: string): Applied<LeaseRevokeResponse>;
  leaseInfo(id: string): LeaseInfo | undefined;
  leases(): { id: string; ttl: number }[];
  snapshot(): Uint8Array;
  /** snapshot() of the state as it is now, after `reserve` free bytes, encoded a step at a time. */
  snapshotEncoder(reserve?: number): SnapshotEncoder;
  sizeBytes(): number;
}

/** The commands replicated through Raft (etcd's InternalRaftRequest, in our own encoding). */
export type Command =
  | { readonly kind: 'put'; readonly request: PutRequest }
  | { readonly kind: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly kind: 'txn'; readonly request: TxnRequest }
  | { readonly kind: 'compact'; readonly request: CompactionRequest }
  | { readonly kind: 'leaseGrant'; readonly id: string; readonly ttl: number }
  | { readonly kind: 'leaseRevoke'; readonly id: string }
  | { readonly kind: 'publish'; readonly member: number; readonly name: string; readonly clientURLs: readonly string[] };

export interface Envelope {
  readonly id: string;
  readonly command: Command;
}

/** The context a membership entry carries: who proposed it, and the member it adds or changes. */
export interface MembershipContext {
  readonly requestId?: string;
  readonly members?: readonly Member[];
  readonly member?: Member;
}

export type ApplyResult = { readonly ok: true; readonly response: unknown } | { readonly ok: false; readonly error: EtcdError };

export interface StateMachineHooks {
  /** Events of every applied write, for watchers. */
  onEvents(events: readonly Event[]): void;
  onLeaseGranted(id: string, ttlSeconds: number): void;
  onLeaseRevoked(id: string): void;
  onMembersChanged(members: ReadonlyMap<number, Member>): void;
  /** Every `snapshotCount` applied entries: the caller compacts the Raft log with this state. */
  onSnapshotDue(index: number, data: Uint8Array): void;
  /** Encoding a snapshot failed (a broken invariant): the member cannot go on. */
  onSnapshotFailed(error: unknown): void;
}

/** How much of a snapshot is encoded between turns of the event loop (~5 ms here). */
const SNAPSHOT_STEP_BYTES = 1024 * 1024;

interface SnapshotBody {
  readonly kv: Uint8Array;
  readonly members: Member[];
  readonly removed?: number[];
}

/**
 * Applies committed entries: commands to the key-value store, membership entries to the member
 * registry. Every member applies the same entries in the same order and computes the same results;
 * the member whose client is waiting hands the result over.
 */
export class StoreStateMachine implements StateMachineSink {
  readonly waiters = new ApplyWaiters<ApplyResult>();
  readonly appliedIndex = new AppliedIndexWaiters();
  private members = new Map<number, Member>();
  /** Members removed from the cluster: peers refuse their traffic, which tells them to stop. */
  private removed = new Set<number>();
  private applied = 0;
  private appliedSinceSnapshot = 0;
  /** A snapshot is being encoded (snapshotInSteps): the next one waits until it is done. */
  private snapshotting = false;

  constructor(
    private kv: KeyValueStore,
    private readonly restoreKv: (bytes: Uint8Array) => KeyValueStore,
    private readonly hooks: StateMachineHooks,
    private readonly snapshotCount: number,
  ) {}

  store(): KeyValueStore {
    return this.kv;
  }

  memberList(): Member[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id);
  }

  member(id: number): Member | undefined {
    return this.members.get(id);
  }

  isRemoved(id: number): boolean {
    return this.removed.has(id);
  }

  lastApplied(): number {
    return this.applied;
  }

  restore(snapshot: Snapshot): void {
    if (snapshot.data.byteLength === 0) return;
    const body = decodeBinaryJson<SnapshotBody>(snapshot.data);
    this.kv = this.restoreKv(body.kv);
    this.members = new Map(body.members.map((member) => [member.id, member]));
    this.removed = new Set(body.removed ?? []);
    this.hooks.onMembersChanged(this.members);
    for (const { id, ttl } of this.kv.leases()) this.hooks.onLeaseGranted(id, ttl);
    this.applied = snapshot.meta.index;
    this.appliedIndex.appliedTo(this.applied);
  }

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.type === EntryType.Membership) this.applyMembership(entry);
      else if (entry.data.byteLength > 0) this.applyCommand(decodeBinaryJson<Envelope>(entry.data));
      this.applied = entry.index;
    }
    this.appliedIndex.appliedTo(this.applied);
    this.appliedSinceSnapshot += entries.length;
    if (this.appliedSinceSnapshot >= this.snapshotCount && !this.snapshotting) {
      this.appliedSinceSnapshot = 0;
      this.snapshotting = true;
      const index = this.applied;
      this.snapshotInSteps().then(
        (data) => {
          this.snapshotting = false;
          this.hooks.onSnapshotDue(index, data);
        },
        (error: unknown) => this.hooks.onSnapshotFailed(error),
      );
    }
  }

  /**
   * The snapshot of the state as it is now (what restore() reads), its key-value part encoded ~1 MiB
   * at a time with a turn of the event loop between: encoded at once, a state of 100 MiB held the
   * member (and, as every member snapshots at the same index, the cluster) for one to two seconds.
   */
  private async snapshotInSteps(): Promise<Uint8Array> {
    // The body's JSON first, the key-value bytes (its only byte array) after it, in one buffer.
    const body: SnapshotBody = { kv: new Uint8Array(0), members: this.memberList(), removed: [...this.removed] };
    const headBytes = binaryJsonHead(body, 0).length;
    const encoder = this.kv.snapshotEncoder(headBytes);
    while (!encoder.step(SNAPSHOT_STEP_BYTES)) await nextTurn();
    const data = encoder.finish();
    data.set(binaryJsonHead(body, data.length - headBytes));
    return data;
  }

  private applyCommand({ id, command }: Envelope): void {
    let result: ApplyResult;
    try {
      result = { ok: true, response: this.execute(command) };
    } catch (error) {
      if (!(error instanceof EtcdError)) throw error;
      result = { ok: false, error };
    }
    this.waiters.trigger(id, result);
  }

  private execute(command: Command): unknown {
    switch (command.kind) {
      case 'put':
        return this.published(this.kv.put(command.request));
      case 'deleteRange':
        return this.published(this.kv.deleteRange(command.request));
      case 'txn':
        return this.published(this.kv.txn(command.request));
      case 'compact':
        return this.kv.compact(command.request);
      case 'leaseGrant': {
        const applied = this.kv.leaseGrant(command.id, command.ttl);
        this.hooks.onLeaseGranted(applied.response.id, applied.response.ttl);
        return applied.response;
      }
      case 'leaseRevoke': {
        const applied = this.published(this.kv.leaseRevoke(command.id));
        this.hooks.onLeaseRevoked(command.id);
        return applied;
      }
      case 'publish': {
        const member = this.members.get(command.member);
        if (member !== undefined) {
          this.members.set(member.id, { ...member, name: command.name, clientURLs: [...command.clientURLs] });
          this.hooks.onMembersChanged(this.members);
        }
        return {};
      }
    }
  }

  private published<R>(applied: Applied<R>): R {
    this.hooks.onEvents(applied.events);
    return applied.response;
  }

  private applyMembership(entry: Entry): void {
    const membership = decodeMembership(entry.data);
    const contextText = decodeMembershipContext(entry.data);
    const context: MembershipContext = contextText === undefined ? {} : (JSON.parse(contextText) as MembershipContext);
    for (const member of context.members ?? []) this.members.set(member.id, member);
    if (context.member !== undefined) this.members.set(context.member.id, context.member);
    // The Raft membership is the truth about who is in; the registry keeps their attributes.
    for (const id of [...this.members.keys()]) {
      if (!membership.voters.includes(id) && !membership.learners.includes(id)) {
        this.members.delete(id);
        this.removed.add(id);
      }
    }
    for (const [id, member] of this.members) {
      const isLearner = membership.learners.includes(id);
      if (member.isLearner !== isLearner) this.members.set(id, { ...member, isLearner });
    }
    this.hooks.onMembersChanged(this.members);
    if (context.requestId !== undefined) this.waiters.trigger(context.requestId, { ok: true, response: this.memberList() });
  }
}
