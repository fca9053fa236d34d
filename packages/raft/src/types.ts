/** A member's id. Ids are positive integers; 0 means "nobody". */
export type NodeId = number;
export const NONE: NodeId = 0;

export enum EntryType {
  /** An opaque command for the application's state machine (empty data: the leader's no-op). */
  Normal = 0,
  /** A membership change: data is the whole new configuration, encoded by `encodeMembership`. */
  Membership = 1,
}

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** The state that must be on stable storage before any message of the same Ready is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** Who votes and who only listens. A node is in at most one of the two lists. */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMeta {
  /** The last log index the snapshot covers, and its term. */
  readonly index: number;
  readonly term: number;
  /** The membership as of `index`. */
  readonly membership: Membership;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The application's state machine at `meta.index`, opaque to Raft. */
  readonly data: Uint8Array;
}

export enum MessageType {
  /** Candidate asks for a vote. */
  Vote = 'Vote',
  VoteResponse = 'VoteResponse',
  /** Would-be candidate asks whether it could win, without disturbing anyone's term. */
  PreVote = 'PreVote',
  PreVoteResponse = 'PreVoteResponse',
  /** Leader replicates entries (AppendEntries). */
  Append = 'Append',
  AppendResponse = 'AppendResponse',
  /** Leader keeps its authority and carries the commit index (and a ReadIndex context). */
  Heartbeat = 'Heartbeat',
  HeartbeatResponse = 'HeartbeatResponse',
  /** Leader sends its snapshot to a follower behind the compacted log; answered by AppendResponse. */
  InstallSnapshot = 'InstallSnapshot',
  /** Leader tells the transfer target to campaign at once. */
  TimeoutNow = 'TimeoutNow',
  /** A follower forwards a ReadIndex request to the leader, which answers with the read index. */
  ReadIndex = 'ReadIndex',
  ReadIndexResponse = 'ReadIndexResponse',
}

export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** Append: index and term of the entry before `entries`. Vote/PreVote: the candidate's last index and term. */
  readonly index: number;
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  /** Responses: whether the request was refused. */
  readonly reject: boolean;
  /** AppendResponse rejections: the follower's hint for where the logs may agree (index, term). */
  readonly rejectHintIndex: number;
  readonly rejectHintTerm: number;
  readonly snapshot?: Snapshot;
  /** ReadIndex requests carry the caller's context through heartbeats and back. */
  readonly context?: string;
  /** Vote requests caused by a leader transfer bypass the leader lease. */
  readonly force?: boolean;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

/**
 * One batch of work for the caller. Committed entries are durable on a quorum, so a Ready without a
 * snapshot may apply them before its own write completes (etcd applies concurrently with its WAL
 * write); with a snapshot, restore and apply come after persisting. Otherwise, in this order:
 *  0. `messagesBeforePersist` may be sent at once, in parallel with step 1: they promise nothing
 *     about this Ready's durability (a leader's appends and heartbeats in a term already durable;
 *     the leader counts its own log toward commitment only after `advance()` — Raft thesis §10.2.1);
 *  1. persist `snapshot` (if any), then `entries` (the first entry may replace a suffix of the
 *     stored log from its index on), then `hardState`; make them durable (fsync);
 *  2. only then send `messages` — they may promise that the above is durable;
 *  3. restore `snapshot` into the state machine, then apply `committedEntries` in order;
 *  4. call `advance()`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messagesBeforePersist: readonly Message[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
}

/** What the caller persisted, handed back on restart. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot?: Snapshot;
  /** Entries after the snapshot, contiguous. */
  readonly entries: readonly Entry[];
}

/**
 * A single-server membership change, as proposed by the application. `context` rides along in the
 * membership entry for the application (etcd puts the member's attributes there).
 */
export type MembershipChange = {
  readonly type: 'addVoter' | 'addLearner' | 'promoteLearner' | 'removeNode';
  readonly node: NodeId;
  readonly context?: string;
};

/** The seeded source of randomness the caller provides (for randomized election timeouts). */
export interface RandomSource {
  /** A uniformly distributed integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}
