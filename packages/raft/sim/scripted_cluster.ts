import {
  EntryType,
  MessageType,
  Raft,
  Role,
  bootstrapState,
  membershipOf,
  type Entry,
  type Message,
  type NodeId,
  type PersistedState,
  type RaftConfig,
  type ReadState,
} from '../src/index.js';
import { SafetyChecker, viewOf } from './checker.js';
import { diskOf, persistReady, persistSnapshot, persistedStateOf, type Disk } from './disk.js';

export type ScriptedOptions = Partial<Omit<RaftConfig, 'id' | 'random'>>;

interface ScriptedNode {
  raft: Raft | undefined;
  /** The last term this node was seen leading: Leader Completeness is checked once, on election. */
  leaderTermSeen: number;
  disk: Disk;
  applied: Entry[];
  readStates: ReadState[];
}

export type MessageFilter = (message: Message) => boolean;

/**
 * A cluster under a test's full control, for stories: nothing happens until the test ticks, steps
 * or delivers. Each node handles its Ready synchronously (persist, queue messages, apply), so the
 * only nondeterminism left is which queued message the test delivers. The safety checker watches
 * every step.
 */
export class ScriptedCluster {
  readonly nodes = new Map<NodeId, ScriptedNode>();
  /** Messages sent and not yet delivered or dropped, in send order. */
  mailbox: Message[] = [];
  readonly checker = new SafetyChecker();
  private readonly blocked = new Set<NodeId>();

  constructor(
    ids: readonly NodeId[],
    private readonly options: ScriptedOptions = {},
    states: ReadonlyMap<NodeId, PersistedState> = new Map(),
  ) {
    for (const id of ids) {
      const state = states.get(id) ?? bootstrapState(ids);
      this.nodes.set(id, { raft: undefined, leaderTermSeen: 0, disk: diskOf(state), applied: [], readStates: [] });
      this.restart(id);
    }
  }

  /** A cluster whose nodes start from the given logs (terms of entries 1..n), for the paper's figures. */
  static withLogs(logs: ReadonlyMap<NodeId, readonly number[]>, currentTerm: number, options: ScriptedOptions = {}): ScriptedCluster {
    const ids = [...logs.keys()];
    const membership = membershipOf(ids);
    const states = new Map<NodeId, PersistedState>();
    for (const [id, terms] of logs) {
      states.set(id, {
        hardState: { term: currentTerm, vote: 0, commit: 0 },
        snapshot: { meta: { index: 0, term: 0, membership }, data: new Uint8Array() },
        entries: terms.map((term, i) => ({ index: i + 1, term, type: EntryType.Normal, data: encode(`e${i + 1}@${term}`) })),
      });
    }
    return new ScriptedCluster(ids, options, states);
  }

  raft(id: NodeId): Raft {
    const raft = this.nodes.get(id)?.raft;
    if (raft === undefined) throw new Error(`node ${id} is down`);
    return raft;
  }

  node(id: NodeId): ScriptedNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** The terms of a node's log from its first entry after the snapshot. */
  logTerms(id: NodeId): number[] {
    const raft = this.raft(id);
    const terms: number[] = [];
    for (let index = raft.log.firstIndex(); index <= raft.log.lastIndex(); index++) terms.push(raft.log.term(index) ?? -1);
    return terms;
  }

  appliedValues(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((entry) => entry.type === EntryType.Normal && entry.data.byteLength > 0)
      .map((entry) => decode(entry.data));
  }

  leader(): NodeId | undefined {
    let best: Raft | undefined;
    for (const node of this.nodes.values()) {
      if (node.raft?.role === Role.Leader && (best === undefined || node.raft.term > best.term)) best = node.raft;
    }
    return best?.id;
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.raft(id).tick();
      this.flush(id);
    }
  }

  campaign(id: NodeId): void {
    this.raft(id).campaign();
    this.flush(id);
  }

  propose(id: NodeId, value: string): ReturnType<Raft['propose']> {
    const result = this.raft(id).propose(encode(value));
    this.flush(id);
    return result;
  }

  /** Runs `action` on a node's Raft, then handles what it produced. */
  act<T>(id: NodeId, action: (raft: Raft) => T): T {
    const result = action(this.raft(id));
    this.flush(id);
    return result;
  }

  /** Delivers queued messages that match, and what they cause, until none match. Returns the count. */
  deliver(filter: MessageFilter = () => true, limit = 10_000): number {
    let delivered = 0;
    for (;;) {
      const at = this.mailbox.findIndex(filter);
      if (at < 0) return delivered;
      if (++delivered > limit) throw new Error(`more than ${limit} messages delivered`);
      const [message] = this.mailbox.splice(at, 1);
      if (message === undefined) continue;
      const target = this.nodes.get(message.to)?.raft;
      if (target === undefined || this.blocked.has(message.to) || this.blocked.has(message.from)) continue;
      target.step(message);
      this.flush(message.to);
    }
  }

  /** Delivers like `deliver`, one message at a time, and returns what was delivered, in order. */
  deliverEach(filter: MessageFilter = () => true): Message[] {
    const delivered: Message[] = [];
    for (let next = this.mailbox.find(filter); next !== undefined; next = this.mailbox.find(filter)) {
      const message = next;
      delivered.push(this.deliverOne((m) => m === message));
    }
    return delivered;
  }

  /** A cluster of `ids` in which node 1 has just won an election and everyone follows it. */
  static withLeader(ids: readonly NodeId[], options: ScriptedOptions = {}): ScriptedCluster {
    const c = new ScriptedCluster(ids, options);
    c.campaign(1);
    c.deliver();
    if (c.leader() !== 1) throw new Error('node 1 did not win the first election');
    return c;
  }

  /** Delivers one queued message that matches (and nothing it causes). */
  deliverOne(filter: MessageFilter): Message {
    const at = this.mailbox.findIndex(filter);
    const message = this.mailbox[at];
    if (message === undefined) throw new Error('no queued message matches');
    this.mailbox.splice(at, 1);
    this.raft(message.to).step(message);
    this.flush(message.to);
    return message;
  }

  drop(filter: MessageFilter = () => true): number {
    const before = this.mailbox.length;
    this.mailbox = this.mailbox.filter((message) => !filter(message));
    return before - this.mailbox.length;
  }

  isolate(id: NodeId): void {
    this.blocked.add(id);
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Loses the node's memory and its undelivered messages; its disk survives. */
  crash(id: NodeId): void {
    this.node(id).raft = undefined;
    this.drop((message) => message.from === id);
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    node.raft = new Raft(
      {
        electionTimeoutTicks: 10,
        heartbeatTimeoutTicks: 1,
        ...this.options,
        id,
        // Deterministic timeouts: every node waits exactly electionTimeoutTicks.
        random: { int: () => 0 },
      },
      persistedStateOf(node.disk),
    );
    node.applied = node.applied.filter((entry) => entry.index <= (node.disk.snapshot?.meta.index ?? 0));
    this.flush(id);
  }

  compact(id: NodeId): void {
    const raft = this.raft(id);
    raft.compact(raft.log.applied, encode(`snapshot@${raft.log.applied}`));
    persistSnapshot(this.node(id).disk, raft.log.snapshot);
  }

  /** Handles every Ready of a node: persist, then send, then apply, then advance. */
  flush(id: NodeId): void {
    const node = this.node(id);
    const raft = node.raft;
    if (raft === undefined) return;
    this.noteLeadership(node, raft);
    while (raft.hasReady()) {
      const ready = raft.ready();
      this.checker.onAppend(id, ready.entries, viewOf(raft));
      this.mailbox.push(...ready.messagesBeforePersist);
      persistReady(node.disk, ready);
      this.mailbox.push(...ready.messages);
      if (ready.snapshot !== undefined) this.checker.onSnapshotInstalled(id, ready.snapshot);
      for (const entry of ready.committedEntries) {
        this.checker.onApply(id, entry);
        node.applied.push(entry);
      }
      node.readStates.push(...ready.readStates);
      raft.advance();
      this.noteLeadership(node, raft);
    }
  }

  private noteLeadership(node: ScriptedNode, raft: Raft): void {
    if (raft.role !== Role.Leader || node.leaderTermSeen === raft.term) return;
    node.leaderTermSeen = raft.term;
    this.checker.onLeader(raft.id, raft.term, viewOf(raft));
  }
}

export function encode(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

export function decode(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** Filters for `deliver`, so stories read as sentences. */
export const from =
  (id: NodeId): MessageFilter =>
  (message) =>
    message.from === id;
export const to =
  (id: NodeId): MessageFilter =>
  (message) =>
    message.to === id;
export const between =
  (a: NodeId, b: NodeId): MessageFilter =>
  (message) =>
    (message.from === a && message.to === b) || (message.from === b && message.to === a);
export const ofType =
  (type: MessageType): MessageFilter =>
  (message) =>
    message.type === type;
export const elections: MessageFilter = (message) =>
  message.type === MessageType.PreVote ||
  message.type === MessageType.PreVoteResponse ||
  message.type === MessageType.Vote ||
  message.type === MessageType.VoteResponse;
export const carries =
  (index: number): MessageFilter =>
  (message) =>
    message.entries.some((entry) => entry.index === index);
export const and =
  (...filters: MessageFilter[]): MessageFilter =>
  (message) =>
    filters.every((filter) => filter(message));
export const not =
  (filter: MessageFilter): MessageFilter =>
  (message) =>
    !filter(message);
export const among =
  (ids: readonly NodeId[]): MessageFilter =>
  (message) =>
    ids.includes(message.from) && ids.includes(message.to);
