import { every, realClock, type Clock } from '@k8ts/base';
import {
  Raft,
  type Entry,
  type HardState,
  type MembershipChange,
  type Message,
  type PersistedState,
  type ProposalResult,
  type RaftConfig,
  type RaftStatus,
  type ReadState,
  type RequestResult,
  type Snapshot,
  type SoftState,
} from '../src/index.js';

/** Where the node's Raft state becomes durable (packages/storage's RaftStorage fits). */
export interface DurableRaftLog {
  /** `sync: false`: written in order, durable with the next synced save (for commit-only changes). */
  save(batch: { hardState?: HardState; entries: readonly Entry[]; snapshot?: Snapshot; sync?: boolean }): Promise<void>;
  saveSnapshot(snapshot: Snapshot): Promise<void>;
}

/** Best-effort delivery to peers: Raft tolerates loss, so sending never blocks the node. */
export interface PeerSender {
  send(messages: readonly Message[]): void;
}

/** What the node hands to the application, in log order. */
export interface StateMachineSink {
  /** Restore a snapshot received from the leader. */
  restore(snapshot: Snapshot): Promise<void> | void;
  /** Apply committed entries, in order. */
  apply(entries: readonly Entry[]): Promise<void> | void;
  /** Role or leader changed. */
  softStateChanged?(state: SoftState, term: number): void;
}

export interface RaftNodeOptions {
  readonly raft: RaftConfig;
  readonly persisted: PersistedState;
  readonly log: DurableRaftLog;
  readonly peers: PeerSender;
  readonly stateMachine: StateMachineSink;
  /** One Raft tick every this many milliseconds (etcd's --heartbeat-interval is one tick). */
  readonly tickMs: number;
  /**
   * Bound on queued input (default 10,000). Beyond it, local proposals are refused and peer messages
   * dropped — Raft retransmits what is lost. Ticks, compactions and read requests always queue.
   */
  readonly maxQueuedInputs?: number;
  /** A peer message was dropped because the input queue was full (etcd: a peer receive failure). */
  readonly onPeerMessageDropped?: (message: Message) => void;
  readonly onFatal: (error: unknown) => void;
  /** Time for ticks and read timeouts (default the real clock; the simulator passes its virtual one). */
  readonly clock?: Clock;
}

type Input = () => void;

/**
 * Drives the pure Raft core: a timer ticks it, peers' messages and client requests are queued, and
 * one loop takes each Ready, persists it (one fsync for everything queued meanwhile — group
 * commit), sends its messages, applies its entries, and advances. Nothing touches the core between
 * ready() and advance(): input that arrives meanwhile waits in the queue.
 */
export class RaftNode {
  private readonly raft: Raft;
  private queue: Input[] = [];
  private wake: (() => void) | undefined;
  private readonly clock: Clock;
  private stopTicker: (() => void) | undefined;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly readWaiters = new Map<string, (index: number) => void>();
  /** Calls queued but not yet run: refused when the loop ends. */
  private readonly abandoned = new Set<() => void>();
  private lastStatus: RaftStatus;
  private pendingCompaction: { index: number; data: Uint8Array } | undefined;
  /** A snapshot file is being written: the next compaction waits for it. */
  private savingSnapshot = false;
  /** The term and vote known durable: a Ready changing either must be synced before its messages. */
  private durableTerm: number;
  private durableVote: number;

  constructor(private readonly options: RaftNodeOptions) {
    this.clock = options.clock ?? realClock;
    this.raft = new Raft(options.raft, options.persisted);
    this.lastStatus = this.raft.status();
    this.durableTerm = options.persisted.hardState.term;
    this.durableVote = options.persisted.hardState.vote;
  }

  get id(): number {
    return this.raft.id;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopTicker = every(this.clock, this.options.tickMs, () => this.enqueue(() => this.raft.tick(), true));
    this.loopDone = this.loop()
      .catch((error: unknown) => {
        this.running = false;
        this.options.onFatal(error);
      })
      .finally(() => {
        for (const abandon of this.abandoned) abandon();
        this.abandoned.clear();
      });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopTicker?.();
    this.wake?.();
    await this.loopDone;
  }

  /** Runs `ticks` ticks now, as if that much time had passed (etcd's raftNode.advanceTicks). */
  advanceTicks(ticks: number): void {
    for (let i = 0; i < ticks; i++) this.enqueue(() => this.raft.tick(), true);
  }

  /** The status as of the last loop iteration (cheap; safe from any callback). */
  status(): RaftStatus {
    return this.lastStatus;
  }

  /** The term of the entry at `index` in the core's log now (undefined when compacted or absent). */
  logTerm(index: number): number | undefined {
    return this.raft.log.term(index);
  }

  /** The index the core's log is compacted to now. */
  snapshotIndex(): number {
    return this.raft.log.snapshot.meta.index;
  }

  /** Input waiting for the loop (ticks may take it past the bound; nothing else does). */
  queuedInputs(): number {
    return this.queue.length;
  }

  /** A peer's message; dropped when the input queue is full. */
  step(message: Message): void {
    if (!this.running) return;
    if (!this.enqueue(() => this.raft.step(message), false)) this.options.onPeerMessageDropped?.(message);
  }

  propose(data: Uint8Array): Promise<ProposalResult> {
    return this.call((raft) => raft.propose(data), (reason) => ({ ok: false, reason, leader: 0 }));
  }

  proposeMembershipChange(change: MembershipChange): Promise<ProposalResult> {
    return this.call((raft) => raft.proposeMembershipChange(change), (reason) => ({ ok: false, reason, leader: 0 }));
  }

  transferLeadership(target: number): Promise<RequestResult> {
    return this.call((raft) => raft.transferLeadership(target), (reason) => ({ ok: false, reason, leader: 0 }));
  }

  /**
   * Log compaction after the state machine took a snapshot at an applied index. The loop writes the
   * snapshot between Readies, so storage never sees it concurrently with a save.
   */
  compact(index: number, data: Uint8Array): void {
    this.enqueue(() => {
      if (index > this.raft.log.snapshot.meta.index) this.pendingCompaction = { index, data };
    }, true);
  }

  /**
   * A linearizable read point: resolves with the index the state machine must reach before the
   * read is served. Rejects if no answer comes within `timeoutMs` (leader lost, partition).
   */
  readIndex(context: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.schedule(timeoutMs, () => {
        this.readWaiters.delete(context);
        reject(new Error('read index timed out'));
      });
      this.readWaiters.set(context, (index) => {
        timer.cancel();
        resolve(index);
      });
      this.enqueue(() => {
        const result = this.raft.readIndex(context);
        if (!result.ok) {
          timer.cancel();
          this.readWaiters.delete(context);
          reject(new Error(result.reason));
        }
      }, true);
    });
  }

  /**
   * Runs `action` on the loop. Refused at once when the queue is full; a call still queued when the
   * loop ends (stop, or a fatal error) is refused then, so no caller waits forever.
   */
  private call<T>(action: (raft: Raft) => T, refused: (reason: string) => T): Promise<T> {
    return new Promise((resolve) => {
      const abandon = (): void => resolve(refused('raft node stopped'));
      const queued = this.enqueue(() => {
        this.abandoned.delete(abandon);
        resolve(action(this.raft));
      }, false);
      if (queued) this.abandoned.add(abandon);
      else resolve(refused(this.running ? 'server is overloaded' : 'raft node stopped'));
    });
  }

  /** Queues input for the loop; false when the queue is full and `force` is not set. */
  private enqueue(input: Input, force: boolean): boolean {
    if (!this.running) return false;
    if (!force && this.queue.length >= (this.options.maxQueuedInputs ?? 10_000)) return false;
    this.queue.push(input);
    this.wake?.();
    return true;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      if (this.queue.length === 0 && !this.raft.hasReady()) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const inputs = this.queue;
      this.queue = [];
      for (const input of inputs) input();
      if (this.raft.hasReady()) await this.handleReady();
      if (this.pendingCompaction !== undefined && !this.savingSnapshot) this.compactNow(this.pendingCompaction);
      this.lastStatus = this.raft.status();
    }
  }

  private async handleReady(): Promise<void> {
    const ready = this.raft.ready();
    // A leader's appends go out while its own write is under way (Raft thesis §10.2.1).
    if (ready.messagesBeforePersist.length > 0) this.options.peers.send(ready.messagesBeforePersist);
    let appliedEarly = false;
    if (ready.snapshot !== undefined || ready.entries.length > 0 || ready.hardState !== undefined) {
      const hard = ready.hardState;
      const termOrVoteChanged = hard !== undefined && (hard.term !== this.durableTerm || hard.vote !== this.durableVote);
      const mustSync = ready.snapshot !== undefined || ready.entries.length > 0 || termOrVoteChanged;
      const save = this.options.log.save({
        entries: ready.entries,
        ...(hard ? { hardState: hard } : {}),
        ...(ready.snapshot ? { snapshot: ready.snapshot } : {}),
        sync: mustSync,
      });
      // Committed entries are durable on a quorum: apply them while our own write is under way.
      if (ready.snapshot === undefined && ready.committedEntries.length > 0) {
        await this.options.stateMachine.apply(ready.committedEntries);
        appliedEarly = true;
      }
      if (mustSync) {
        await save;
        if (hard) [this.durableTerm, this.durableVote] = [hard.term, hard.vote];
      } else {
        // Only the commit index moved: like etcd (MustSync), nothing waits for it to be durable — a
        // restart relearns the commit index from the leader. Storage keeps it in order with later saves.
        save.catch((error: unknown) => this.options.onFatal(error));
      }
    }
    // Only now may messages promise durability.
    if (ready.messages.length > 0) this.options.peers.send(ready.messages);
    if (ready.softState) this.options.stateMachine.softStateChanged?.(ready.softState, this.raft.term);
    if (ready.snapshot) await this.options.stateMachine.restore(ready.snapshot);
    if (!appliedEarly && ready.committedEntries.length > 0) await this.options.stateMachine.apply(ready.committedEntries);
    this.answerReads(ready.readStates);
    this.raft.advance();
  }

  /**
   * Compacts the log now and writes the snapshot beside the loop: the file holds the whole state
   * (100 MiB and more under a big keyspace) and the loop would stall every write meanwhile. The
   * WAL keeps the compacted entries until the file is durable, so a crash before then recovers
   * from the previous snapshot and those entries (RaftStorage.saveSnapshot).
   */
  private compactNow({ index, data }: { index: number; data: Uint8Array }): void {
    this.pendingCompaction = undefined;
    this.raft.compact(index, data);
    this.savingSnapshot = true;
    this.options.log.saveSnapshot(this.raft.log.snapshot).then(
      () => {
        this.savingSnapshot = false;
        // A compaction asked for meanwhile waits in pendingCompaction: let the loop see it.
        if (this.pendingCompaction !== undefined) this.enqueue(() => undefined, true);
      },
      (error: unknown) => this.options.onFatal(error),
    );
  }

  private answerReads(readStates: readonly ReadState[]): void {
    for (const { context, index } of readStates) {
      const waiter = this.readWaiters.get(context);
      this.readWaiters.delete(context);
      waiter?.(index);
    }
  }
}
