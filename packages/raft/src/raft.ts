import { invariant } from '@k8ts/base';
import { RaftLog, entrySizeBytes } from './log.js';
import {
  allMembers,
  applyMembershipChange,
  encodeMembership,
  isMember,
  isVoter,
  quorumSize,
} from './membership.js';
import { Progress, ProgressState } from './progress.js';
import { ReadIndexQueue } from './read_index.js';
import {
  EntryType,
  MessageType,
  NONE,
  Role,
  type Entry,
  type HardState,
  type Membership,
  type MembershipChange,
  type Message,
  type NodeId,
  type PersistedState,
  type RandomSource,
  type ReadState,
  type Ready,
  type SoftState,
} from './types.js';

export interface RaftConfig {
  readonly id: NodeId;
  /** Followers campaign after a random timeout in [electionTimeoutTicks, 2 × electionTimeoutTicks). */
  readonly electionTimeoutTicks: number;
  /** The leader sends heartbeats this often. Must be well below the election timeout. */
  readonly heartbeatTimeoutTicks: number;
  /** The seeded randomness behind election timeouts. */
  readonly random: RandomSource;
  /** Ask "could I win?" before bumping the term, so a rejoining node cannot disrupt a healthy leader. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  readonly checkQuorum?: boolean;
  /** Most bytes of entries in one append (one entry is always sent). */
  readonly maxSizePerMessageBytes?: number;
  /** The in-flight window per follower in Replicate state. */
  readonly maxInflightMessages?: number;
  readonly maxInflightBytes?: number;
  /** Deliberately broken rules, only for proving the simulator's checkers catch them. Never set in production. */
  readonly unsafe?: UnsafeRules;
}

export interface UnsafeRules {
  /** Grant votes without the "candidate's log is at least as up to date" check (§5.4.1). */
  readonly voteWithoutLogCheck?: boolean;
  /** Commit entries of earlier terms by counting replicas (the trap of §5.4.2, figure 8). */
  readonly commitEntriesOfEarlierTerms?: boolean;
  /** Answer ReadIndex without confirming leadership with a heartbeat quorum (a deposed leader reads stale). */
  readonly readIndexWithoutQuorum?: boolean;
  /** Accept an append whose previous entry we hold in another term, skipping §5.3's consistency check. */
  readonly appendWithoutPrevCheck?: boolean;
  /** Grant a second vote in a term already voted in (while no leader is known). */
  readonly twoVotesPerTerm?: boolean;
  /** Install a snapshot at or below the commit index, rolling the state machine back. */
  readonly installStaleSnapshot?: boolean;
  /** A leader never steps down for lack of a quorum, and the leader lease is off, though checkQuorum is set. */
  readonly noCheckQuorum?: boolean;
}

export type ProposalResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: string; readonly leader: NodeId };

export type RequestResult = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly leader: NodeId };

export interface FollowerStatus {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly leader: NodeId;
  readonly role: Role;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly membership: Membership;
  /** As the leader sees its followers (empty on other roles). */
  readonly followers: readonly FollowerStatus[];
}

type Campaign = 'pre-vote' | 'election' | 'transfer';

const DEFAULTS = {
  preVote: true,
  checkQuorum: true,
  maxSizePerMessageBytes: 1024 * 1024,
  maxInflightMessages: 256,
  maxInflightBytes: 0,
};

/**
 * One Raft node as a pure state machine. Time enters through `tick()`, the network through `step()`,
 * clients through `propose()`, `proposeMembershipChange()`, `readIndex()` and `transferLeadership()`.
 * Everything it wants done comes out of `ready()`, one batch at a time; the caller does that work in
 * the order `Ready` documents and then calls `advance()`. Nothing may be stepped between `ready()`
 * and `advance()`: the caller queues input meanwhile (and gets group commit for free).
 */
export class Raft {
  readonly id: NodeId;
  private readonly config: Required<Omit<RaftConfig, 'unsafe'>> & { unsafe: UnsafeRules };
  readonly log: RaftLog;

  term: number;
  vote: NodeId;
  leader: NodeId = NONE;
  role: Role = Role.Follower;

  private progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private ticks = 0;
  private leadTransferee: NodeId = NONE;
  private reads = new ReadIndexQueue();
  /** ReadIndex requests that arrived before the leader committed an entry of its own term. */
  private readsAwaitingTermCommit: { context: string; requester: NodeId }[] = [];

  private messages: Message[] = [];
  /**
   * A leader's log or commit index moved since its last Ready: followers are told once, when the
   * Ready is taken, not once per proposal or acknowledgement (see flushAppends).
   */
  private appendsPending = false;
  private readStates: ReadState[] = [];
  private lastSoftState: SoftState;
  private lastHardState: HardState;
  private inFlightReady: Ready | undefined;

  constructor(config: RaftConfig, persisted: PersistedState) {
    invariant(config.id > 0, 'node id must be positive');
    invariant(config.heartbeatTimeoutTicks > 0, 'heartbeat timeout must be positive');
    invariant(
      config.electionTimeoutTicks > config.heartbeatTimeoutTicks,
      'election timeout must be longer than the heartbeat timeout',
    );
    this.id = config.id;
    this.config = { ...DEFAULTS, ...config, unsafe: config.unsafe ?? {} };
    this.log = new RaftLog(persisted);
    this.term = persisted.hardState.term;
    this.vote = persisted.hardState.vote;
    this.lastHardState = this.hardState();
    this.becomeFollower(this.term, NONE);
    this.lastSoftState = this.softState();
  }

  // ─── Input ────────────────────────────────────────────────────────────────────────────────────

  tick(): void {
    this.assertNotInReady('tick');
    this.ticks++;
    if (this.role === Role.Leader) this.tickLeader();
    else this.tickElection();
  }

  /** Start an election now (as a timeout would). */
  campaign(): void {
    this.assertNotInReady('campaign');
    this.hup();
  }

  propose(data: Uint8Array): ProposalResult {
    this.assertNotInReady('propose');
    const refused = this.refuseProposal();
    if (refused !== undefined) return refused;
    return this.appendAsLeader(EntryType.Normal, data);
  }

  /**
   * Proposes a single-server membership change. It takes effect on each node as soon as the entry
   * is in that node's log. Refused while another change is uncommitted, before the leader has
   * committed an entry of its own term (the fix to single-server changes from the dissertation's
   * errata), and for a learner that has not caught up with the commit index.
   */
  proposeMembershipChange(change: MembershipChange): ProposalResult {
    this.assertNotInReady('proposeMembershipChange');
    const refused = this.refuseProposal();
    if (refused !== undefined) return refused;
    const fail = (reason: string): ProposalResult => ({ ok: false, reason, leader: this.leader });
    if (!this.committedInCurrentTerm()) return fail('the leader has not yet committed an entry of its term');
    if (this.log.membershipIndex() > this.log.committed) return fail('a membership change is already in progress');
    const next = applyMembershipChange(this.log.membership(), change);
    if (typeof next === 'string') return fail(next);
    if (change.type === 'promoteLearner') {
      const match = this.progress.get(change.node)?.match ?? 0;
      if (match < this.log.committed) return fail(`learner ${change.node} has not caught up (match ${match})`);
    }
    return this.appendAsLeader(EntryType.Membership, encodeMembership(next, change.context));
  }

  /**
   * Asks for a linearizable read point. When granted, a ReadState with this context comes out of a
   * later Ready: the read may be served once the state machine has applied its index. Requests on
   * followers go to the leader; a request lost to a leader change never answers (retry on timeout).
   */
  readIndex(context: string): RequestResult {
    this.assertNotInReady('readIndex');
    if (this.role === Role.Leader) {
      this.leaderReadIndex(context, this.id);
      return { ok: true };
    }
    if (this.leader === NONE) return { ok: false, reason: 'no leader', leader: NONE };
    this.send({ ...this.blank(MessageType.ReadIndex, this.leader), context });
    return { ok: true };
  }

  /** Hands leadership to `target` (graceful shutdown of a leader); proposals are refused meanwhile. */
  transferLeadership(target: NodeId): RequestResult {
    this.assertNotInReady('transferLeadership');
    if (this.role !== Role.Leader) return { ok: false, reason: 'not the leader', leader: this.leader };
    if (target === this.id) return { ok: false, reason: 'already the leader', leader: this.leader };
    if (!isVoter(this.log.membership(), target)) return { ok: false, reason: `${target} is not a voter`, leader: this.id };
    const progress = this.progress.get(target);
    invariant(progress !== undefined, `no progress for voter ${target}`);
    this.leadTransferee = target;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    if (progress.match === this.log.lastIndex()) this.send(this.blank(MessageType.TimeoutNow, target));
    else this.sendAppend(target);
    return { ok: true };
  }

  /** Log compaction after the application took a snapshot of its state at applied index `index`. */
  compact(index: number, data: Uint8Array): void {
    this.assertNotInReady('compact');
    if (index <= this.log.snapshot.meta.index) return;
    this.log.compact(index, data);
  }

  step(message: Message): void {
    this.assertNotInReady('step');
    invariant(message.to === this.id, () => `message for ${message.to} stepped into ${this.id}`);
    if (!this.acceptTerm(message)) return;
    switch (message.type) {
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(message);
        return;
    }
    switch (this.role) {
      case Role.Leader:
        this.stepLeader(message);
        return;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(message);
        return;
      case Role.Follower:
        this.stepFollower(message);
        return;
    }
  }

  // ─── Output ───────────────────────────────────────────────────────────────────────────────────

  hasReady(): boolean {
    const soft = this.softState();
    const hard = this.hardState();
    return (
      soft.leader !== this.lastSoftState.leader ||
      soft.role !== this.lastSoftState.role ||
      !sameHardState(hard, this.lastHardState) ||
      this.log.pendingSnapshot !== undefined ||
      this.log.persisted < this.log.lastIndex() ||
      this.log.committed > this.log.applied ||
      this.messages.length > 0 ||
      (this.appendsPending && this.role === Role.Leader) ||
      this.readStates.length > 0
    );
  }

  ready(): Ready {
    this.assertNotInReady('ready');
    this.flushAppends();
    const soft = this.softState();
    const hard = this.hardState();
    const snapshot = this.log.pendingSnapshot;
    const ready: Ready = {
      ...(soft.leader !== this.lastSoftState.leader || soft.role !== this.lastSoftState.role ? { softState: soft } : {}),
      ...(sameHardState(hard, this.lastHardState) ? {} : { hardState: hard }),
      ...(snapshot === undefined ? {} : { snapshot }),
      entries: this.log.unstableEntries(),
      committedEntries: this.log.committedToApply(),
      messagesBeforePersist: this.messages.filter((message) => this.promisesNothingDurable(message)),
      messages: this.messages.filter((message) => !this.promisesNothingDurable(message)),
      readStates: this.readStates,
    };
    this.messages = [];
    this.readStates = [];
    this.lastSoftState = soft;
    this.inFlightReady = ready;
    return ready;
  }

  /** The last Ready's work is done: its state is durable, its messages sent, its entries applied. */
  advance(): void {
    const ready = this.inFlightReady;
    invariant(ready !== undefined, 'advance() without ready()');
    this.inFlightReady = undefined;
    if (ready.hardState !== undefined) this.lastHardState = ready.hardState;
    if (ready.snapshot !== undefined) this.log.snapshotRestored();
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined && this.log.matchTerm(lastEntry.index, lastEntry.term)) {
      this.log.stableTo(lastEntry.index);
    }
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied !== undefined) this.log.appliedTo(lastApplied.index);
    if (this.role === Role.Leader) {
      // The leader counts its own log towards commitment only once it is durable.
      this.progress.get(this.id)?.maybeUpdate(this.log.persisted);
      if (this.maybeCommit()) this.appendsPending = true;
    }
  }

  status(): RaftStatus {
    const followers: FollowerStatus[] = [];
    if (this.role === Role.Leader) {
      for (const [id, progress] of this.progress) {
        if (id !== this.id) followers.push({ id, match: progress.match, next: progress.next, state: progress.state });
      }
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      role: this.role,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      snapshotIndex: this.log.snapshot.meta.index,
      membership: this.log.membership(),
      followers,
    };
  }

  // ─── Roles ────────────────────────────────────────────────────────────────────────────────────

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.leader = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout =
      this.config.electionTimeoutTicks + this.config.random.int(this.config.electionTimeoutTicks);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.progress.clear();
    this.reads.clear();
    this.readsAwaitingTermCommit = [];
  }

  private becomeFollower(term: number, leader: NodeId): void {
    this.reset(term);
    this.leader = leader;
    this.role = Role.Follower;
  }

  private becomePreCandidate(): void {
    invariant(this.role !== Role.Leader, 'invalid transition leader → pre-candidate');
    // A pre-vote changes neither term nor vote.
    this.votes.clear();
    this.leader = NONE;
    this.role = Role.PreCandidate;
  }

  private becomeCandidate(): void {
    invariant(this.role !== Role.Leader, 'invalid transition leader → candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  private becomeLeader(): void {
    invariant(this.role === Role.Candidate, () => `invalid transition ${this.role} → leader`);
    this.reset(this.term);
    this.leader = this.id;
    this.role = Role.Leader;
    for (const id of allMembers(this.log.membership())) this.addProgress(id);
    // An empty entry of the new term lets the leader commit the entries of earlier terms (§5.4.2).
    this.appendAsLeader(EntryType.Normal, new Uint8Array());
  }

  private addProgress(id: NodeId): void {
    if (this.progress.has(id)) return;
    const { maxInflightMessages, maxInflightBytes } = this.config;
    const progress = new Progress(this.log.lastIndex() + 1, maxInflightMessages, maxInflightBytes);
    if (id === this.id) {
      progress.maybeUpdate(this.log.persisted);
      progress.becomeReplicate();
    }
    progress.recentActive = id === this.id;
    this.progress.set(id, progress);
  }

  /** Leader: one Progress per member of the membership in force. */
  private syncProgressWithMembership(): void {
    const membership = this.log.membership();
    for (const id of allMembers(membership)) this.addProgress(id);
    for (const id of [...this.progress.keys()]) if (!isMember(membership, id)) this.progress.delete(id);
  }

  private promotable(): boolean {
    return isVoter(this.log.membership(), this.id);
  }

  // ─── Time ─────────────────────────────────────────────────────────────────────────────────────

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum() && !this.quorumRecentlyActive()) {
        this.becomeFollower(this.term, NONE);
        return;
      }
      this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTimeoutTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(undefined);
    }
  }

  private checkQuorum(): boolean {
    return this.config.checkQuorum && this.config.unsafe.noCheckQuorum !== true;
  }

  private quorumRecentlyActive(): boolean {
    const membership = this.log.membership();
    let active = 0;
    for (const [id, progress] of this.progress) {
      if (id === this.id) continue;
      if (progress.recentActive && isVoter(membership, id)) active++;
      progress.recentActive = false;
    }
    if (isVoter(membership, this.id)) active++;
    return active >= quorumSize(membership);
  }

  // ─── Elections ────────────────────────────────────────────────────────────────────────────────

  private hup(): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    this.startCampaign(this.config.preVote ? 'pre-vote' : 'election');
  }

  private startCampaign(kind: Campaign): void {
    const preVote = kind === 'pre-vote';
    if (preVote) this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = preVote ? this.term + 1 : this.term;
    this.votes.set(this.id, true);
    if (this.tally() === 'won') {
      this.wonCampaign(preVote);
      return;
    }
    for (const id of this.log.membership().voters) {
      if (id === this.id) continue;
      this.send({
        ...this.blank(preVote ? MessageType.PreVote : MessageType.Vote, id),
        term: voteTerm,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        ...(kind === 'transfer' ? { force: true } : {}),
      });
    }
  }

  private wonCampaign(preVote: boolean): void {
    if (preVote) this.startCampaign('election');
    else this.becomeLeader();
  }

  private tally(): 'won' | 'lost' | 'pending' {
    const { voters } = this.log.membership();
    let granted = 0;
    let rejected = 0;
    for (const id of voters) {
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    const quorum = quorumSize(this.log.membership());
    if (granted >= quorum) return 'won';
    if (rejected > voters.length - quorum) return 'lost';
    return 'pending';
  }

  private handleVoteRequest(message: Message): void {
    const preVote = message.type === MessageType.PreVote;
    const responseType = preVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;
    const canVote =
      this.vote === message.from ||
      (this.vote === NONE && this.leader === NONE) ||
      (preVote && message.term > this.term) ||
      (!preVote && this.config.unsafe.twoVotesPerTerm === true && this.leader === NONE);
    const upToDate = this.config.unsafe.voteWithoutLogCheck || this.log.isUpToDate(message.index, message.logTerm);
    if (canVote && upToDate) {
      // A pre-vote answers in the term it was asked about; a vote is recorded (and persisted first).
      this.send({ ...this.blank(responseType, message.from), term: message.term });
      if (!preVote) {
        this.electionElapsed = 0;
        this.vote = message.from;
      }
    } else {
      this.send({ ...this.blank(responseType, message.from), reject: true });
    }
  }

  /**
   * The term rules every message passes first. Returns false when the message is dropped.
   */
  private acceptTerm(message: Message): boolean {
    const isVoteRequest = message.type === MessageType.Vote || message.type === MessageType.PreVote;
    if (message.term > this.term) {
      if (isVoteRequest) {
        // Leader lease: while we hear from a leader, a disruptive candidate is ignored.
        const inLease =
          this.checkQuorum() && this.leader !== NONE && this.electionElapsed < this.config.electionTimeoutTicks;
        if (inLease && message.force !== true) return false;
      }
      const keepsTerm =
        message.type === MessageType.PreVote || (message.type === MessageType.PreVoteResponse && !message.reject);
      if (!keepsTerm) {
        const fromLeader =
          message.type === MessageType.Append ||
          message.type === MessageType.Heartbeat ||
          message.type === MessageType.InstallSnapshot;
        this.becomeFollower(message.term, fromLeader ? message.from : NONE);
      }
      return true;
    }
    if (message.term < this.term) {
      if (
        (this.config.checkQuorum || this.config.preVote) &&
        (message.type === MessageType.Append || message.type === MessageType.Heartbeat)
      ) {
        // A deposed leader cut off by a partition learns of the newer term and steps down.
        this.send(this.blank(MessageType.AppendResponse, message.from));
      } else if (message.type === MessageType.PreVote || message.type === MessageType.Vote) {
        // Figure 2's RequestVote rule: answer a stale candidate with our term. Ignoring it (as etcd
        // does for votes) can deadlock: a candidate whose peers never contact it never learns the
        // term it must exceed (found by the simulator, seed 878).
        const responseType = message.type === MessageType.PreVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        this.send({ ...this.blank(responseType, message.from), reject: true });
      }
      return false;
    }
    return true;
  }

  // ─── Per-role message handling ────────────────────────────────────────────────────────────────

  private stepLeader(message: Message): void {
    switch (message.type) {
      case MessageType.AppendResponse:
        this.handleAppendResponse(message);
        return;
      case MessageType.HeartbeatResponse:
        this.handleHeartbeatResponse(message);
        return;
      case MessageType.ReadIndex:
        if (message.context !== undefined) this.leaderReadIndex(message.context, message.from);
        return;
      case MessageType.Append:
      case MessageType.Heartbeat:
      case MessageType.InstallSnapshot:
        invariant(false, () => `two leaders in term ${this.term}: ${this.id} and ${message.from}`);
        return;
      default:
        return;
    }
  }

  private stepCandidate(message: Message): void {
    switch (message.type) {
      case MessageType.Append:
      case MessageType.Heartbeat:
      case MessageType.InstallSnapshot:
        // A leader of our term exists: it won.
        this.becomeFollower(this.term, message.from);
        this.stepFollower(message);
        return;
      case MessageType.PreVoteResponse:
      case MessageType.VoteResponse: {
        const preVote = this.role === Role.PreCandidate;
        if (preVote !== (message.type === MessageType.PreVoteResponse)) return;
        if (preVote && !message.reject && message.term !== this.term + 1) return;
        this.votes.set(message.from, !message.reject);
        const result = this.tally();
        if (result === 'won') this.wonCampaign(preVote);
        else if (result === 'lost') this.becomeFollower(this.term, NONE);
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(message: Message): void {
    switch (message.type) {
      case MessageType.Append:
        this.heardFromLeader(message.from);
        this.handleAppend(message);
        return;
      case MessageType.Heartbeat:
        this.heardFromLeader(message.from);
        this.log.commitTo(message.commit);
        this.send({
          ...this.blank(MessageType.HeartbeatResponse, message.from),
          ...(message.context === undefined ? {} : { context: message.context }),
        });
        return;
      case MessageType.InstallSnapshot:
        this.heardFromLeader(message.from);
        this.handleInstallSnapshot(message);
        return;
      case MessageType.TimeoutNow:
        if (this.promotable()) this.startCampaign('transfer');
        return;
      case MessageType.ReadIndexResponse:
        if (message.context !== undefined) this.readStates.push({ index: message.index, context: message.context });
        return;
      default:
        return;
    }
  }

  private heardFromLeader(leader: NodeId): void {
    this.electionElapsed = 0;
    this.leader = leader;
  }

  // ─── Replication: follower side ───────────────────────────────────────────────────────────────

  private handleAppend(message: Message): void {
    const response = this.blank(MessageType.AppendResponse, message.from);
    if (message.index < this.log.committed) {
      // Everything up to our commit index matches the leader's log already.
      this.send({ ...response, index: this.log.committed });
      return;
    }
    const heldPrevTerm = this.log.term(message.index);
    const prevTerm = this.config.unsafe.appendWithoutPrevCheck === true && heldPrevTerm !== undefined ? heldPrevTerm : message.logTerm;
    const lastNew = this.log.maybeAppend(message.index, prevTerm, message.commit, message.entries);
    if (lastNew !== undefined) {
      this.send({ ...response, index: lastNew });
      return;
    }
    // Hint where our logs may agree: the last entry at or before the rejected index whose term is
    // not newer than the leader's term there. The leader skips a whole term per round trip.
    const hintIndex = this.log.findConflictByTerm(Math.min(message.index, this.log.lastIndex()), message.logTerm);
    this.send({
      ...response,
      index: message.index,
      reject: true,
      rejectHintIndex: hintIndex,
      rejectHintTerm: this.log.term(hintIndex) ?? 0,
    });
  }

  private handleInstallSnapshot(message: Message): void {
    const snapshot = message.snapshot;
    invariant(snapshot !== undefined, 'InstallSnapshot without a snapshot');
    const response = this.blank(MessageType.AppendResponse, message.from);
    const { index, term } = snapshot.meta;
    if (index <= this.log.committed) {
      // Broken on purpose: hand the stale snapshot to the application to restore anyway.
      if (this.config.unsafe.installStaleSnapshot === true) this.log.pendingSnapshot = snapshot;
      this.send({ ...response, index: this.log.committed });
    } else if (this.log.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: just learn that it is committed.
      this.log.commitTo(index);
      this.send({ ...response, index: this.log.committed });
    } else {
      this.log.restore(snapshot);
      this.send({ ...response, index });
    }
  }

  // ─── Replication: leader side ─────────────────────────────────────────────────────────────────

  private refuseProposal(): ProposalResult | undefined {
    if (this.role !== Role.Leader) return { ok: false, reason: 'not the leader', leader: this.leader };
    if (this.leadTransferee !== NONE) {
      return { ok: false, reason: 'leadership transfer in progress', leader: this.leader };
    }
    return undefined;
  }

  private appendAsLeader(type: EntryType, data: Uint8Array): ProposalResult {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, type, data };
    this.log.append([entry]);
    if (type === EntryType.Membership) this.syncProgressWithMembership();
    // Self-acknowledgement waits for persistence (advance); a leader whose only voter is itself
    // commits there.
    this.appendsPending = true;
    return { ok: true, index: entry.index, term: entry.term };
  }

  private handleAppendResponse(message: Message): void {
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    if (message.reject) {
      const probeFrom =
        message.rejectHintTerm > 0
          ? this.log.findConflictByTerm(message.rejectHintIndex, message.rejectHintTerm)
          : message.rejectHintIndex;
      if (progress.maybeDecreaseTo(message.index, probeFrom)) {
        if (progress.state === ProgressState.Replicate) progress.becomeProbe();
        this.sendAppend(message.from);
      }
      return;
    }
    const wasPaused = progress.isPaused();
    if (!progress.maybeUpdate(message.index)) return;
    if (progress.state === ProgressState.Probe) {
      progress.becomeReplicate();
    } else if (progress.state === ProgressState.Snapshot) {
      // Caught up to the snapshot, or to where our log still has the entries it needs.
      if (progress.match >= progress.pendingSnapshot || progress.match + 1 >= this.log.firstIndex()) {
        progress.becomeReplicate();
      }
    } else {
      progress.inflights.freeTo(message.index);
    }
    if (this.maybeCommit()) {
      this.appendsPending = true;
    } else if (wasPaused) {
      this.sendAppend(message.from);
    }
    // The window may have opened for several more size-limited appends.
    while (this.role === Role.Leader && this.sendAppend(message.from, false)) {
      /* keep filling the window */
    }
    if (message.from === this.leadTransferee && progress.match === this.log.lastIndex()) {
      this.send(this.blank(MessageType.TimeoutNow, message.from));
    }
  }

  private handleHeartbeatResponse(message: Message): void {
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    progress.probeSent = false;
    if (progress.state === ProgressState.Replicate && progress.inflights.full()) progress.inflights.freeFirst();
    if (
      progress.state === ProgressState.Snapshot &&
      this.ticks - progress.snapshotSentAtTick >= this.config.electionTimeoutTicks
    ) {
      // The snapshot (or its answer) was lost: probe again, which resends it if still needed.
      progress.becomeProbe();
    }
    // An empty append reveals a gap left by lost messages.
    if (progress.match < this.log.lastIndex()) this.sendAppend(message.from);
    if (message.context !== undefined && isVoter(this.log.membership(), message.from)) {
      const acks = this.reads.acknowledge(message.context, message.from);
      if (acks >= quorumSize(this.log.membership())) this.releaseReads(message.context);
    }
  }

  /** Sends what `to` lacks. Returns whether a message went out. */
  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const progress = this.progress.get(to);
    if (progress === undefined || to === this.id || progress.isPaused()) return false;
    const prevIndex = progress.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = this.log.slice(progress.next, this.log.lastIndex() + 1, this.config.maxSizePerMessageBytes);
    if (prevTerm === undefined || entries === undefined) {
      // The follower needs entries that compaction removed.
      this.send({ ...this.blank(MessageType.InstallSnapshot, to), snapshot: this.log.snapshot });
      progress.becomeSnapshot(this.log.snapshot.meta.index, this.ticks);
      return true;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({
      ...this.blank(MessageType.Append, to),
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.log.committed,
    });
    const bytes = entries.reduce((sum, entry) => sum + entrySizeBytes(entry), 0);
    progress.sentEntries(prevIndex + entries.length, entries.length, bytes);
    progress.sentCommit = this.log.committed;
    return true;
  }

  /**
   * Sends each follower what it lacks, and the commit index where that can move its own, once per
   * Ready: under load a Ready gathers dozens of proposals and acknowledgements, and one append
   * carrying them all costs each side one message instead of dozens (etcd's raft sends per
   * proposal; its 3.6 progress tracking adds the commit-only check used here, CanBumpCommit).
   */
  private flushAppends(): void {
    if (!this.appendsPending) return;
    this.appendsPending = false;
    if (this.role !== Role.Leader) return;
    for (const [id, progress] of this.progress) {
      if (id === this.id) continue;
      let sent = false;
      while (this.sendAppend(id, false)) sent = true;
      if (!sent && progress.canBumpCommit(this.log.committed)) this.sendAppend(id);
    }
  }

  private broadcastHeartbeat(context: string | undefined): void {
    for (const [id, progress] of this.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit beyond what it is known to hold.
      const commit = Math.min(progress.match, this.log.committed);
      this.send({ ...this.blank(MessageType.Heartbeat, id), commit, ...(context === undefined ? {} : { context }) });
      progress.sentCommit = commit;
    }
  }

  /** Advances the commit index to what a quorum of voters holds durably. */
  private maybeCommit(): boolean {
    const membership = this.log.membership();
    const matches = membership.voters.map((id) => this.progress.get(id)?.match ?? 0).sort((a, b) => b - a);
    const quorumMatch = matches[quorumSize(membership) - 1] ?? 0;
    if (quorumMatch <= this.log.committed) return false;
    // §5.4.2: only an entry of the leader's own term is committed by counting replicas.
    if (this.log.term(quorumMatch) !== this.term && this.config.unsafe.commitEntriesOfEarlierTerms !== true) {
      return false;
    }
    this.log.commitTo(quorumMatch);
    this.afterCommit();
    return true;
  }

  private afterCommit(): void {
    if (this.committedInCurrentTerm() && this.readsAwaitingTermCommit.length > 0) {
      const waiting = this.readsAwaitingTermCommit;
      this.readsAwaitingTermCommit = [];
      for (const read of waiting) this.leaderReadIndex(read.context, read.requester);
    }
    const membership = this.log.membership();
    if (!isVoter(membership, this.id) && this.log.membershipIndex() <= this.log.committed) {
      // Our removal is committed: a leader outside the membership steps down.
      this.becomeFollower(this.term, NONE);
    }
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  // ─── ReadIndex ────────────────────────────────────────────────────────────────────────────────

  private leaderReadIndex(context: string, requester: NodeId): void {
    if (!this.committedInCurrentTerm()) {
      // Until an entry of our term commits, our commit index may lag what earlier leaders committed.
      this.readsAwaitingTermCommit.push({ context, requester });
      return;
    }
    const membership = this.log.membership();
    const selfVotes = isVoter(membership, this.id);
    if ((selfVotes && quorumSize(membership) === 1) || this.config.unsafe.readIndexWithoutQuorum === true) {
      this.answerRead(context, this.log.committed, requester);
      return;
    }
    this.reads.add(context, this.log.committed, requester);
    if (selfVotes) this.reads.acknowledge(context, this.id);
    this.broadcastHeartbeat(context);
  }

  private releaseReads(context: string): void {
    for (const read of this.reads.releaseThrough(context)) this.answerRead(read.context, read.index, read.requester);
  }

  private answerRead(context: string, index: number, requester: NodeId): void {
    if (requester === this.id) this.readStates.push({ index, context });
    else this.send({ ...this.blank(MessageType.ReadIndexResponse, requester), index, context });
  }

  // ─── Plumbing ─────────────────────────────────────────────────────────────────────────────────

  private blank(type: MessageType, to: NodeId): Message {
    return {
      type,
      from: this.id,
      to,
      term: this.term,
      index: 0,
      logTerm: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
    };
  }

  private send(message: Message): void {
    invariant(message.to !== this.id, () => `${this.id} sending ${message.type} to itself`);
    this.messages.push(message);
  }

  /**
   * A leader's replication traffic in a term that is already durable promises nothing about what this
   * Ready persists: followers vouch for their own logs, and the leader counts its own only after
   * advance(). Everything else (acks, votes, messages of a term not yet on disk) waits.
   */
  private promisesNothingDurable(message: Message): boolean {
    const leaderTraffic =
      message.type === MessageType.Append ||
      message.type === MessageType.Heartbeat ||
      message.type === MessageType.InstallSnapshot ||
      message.type === MessageType.TimeoutNow;
    return leaderTraffic && message.term === this.lastHardState.term;
  }

  private softState(): SoftState {
    return { leader: this.leader, role: this.role };
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private assertNotInReady(what: string): void {
    invariant(this.inFlightReady === undefined, () => `${what}() between ready() and advance()`);
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
