import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { loadLeaderForwarding } from '@k8ts/proto';
import { Role, type MembershipChange, type PersistedState, type RandomSource, type SoftState } from '@k8ts/raft';
import type { Logger } from 'pino';
import { decodeBinaryJson, encodeBinaryJson } from './command_codec.js';
import { ServerError, serverErrors } from './errors.js';
import { LeaseExpiry } from './lease_expiry.js';
import { formatId, idToWire, type Member } from './members.js';
import { PEER_CHANNEL_OPTIONS, PeerTransport } from './peer_transport.js';
import { ProposalForwarder } from './proposal_forwarder.js';
import { RaftNode, type DurableRaftLog } from '@k8ts/raft';
import { ReadBatcher } from './read_batcher.js';
import { StoreStateMachine, type Command, type Envelope, type KeyValueStore, type MembershipContext } from './state_machine.js';
import { WatchHub } from './watch_hub.js';
import { AutoCompactor, type AutoCompactionMode } from './auto_compactor.js';
import type { StoreMetrics } from './metrics.js';

export interface EtcdServerConfig {
  readonly memberId: number;
  readonly clusterId: number;
  readonly name: string;
  readonly clientURLs: readonly string[];
  readonly tickMs: number;
  readonly electionTicks: number;
  /**
   * etcd's --initial-election-tick-advance: once the peers answer, skip all but two ticks of the first
   * election timeout, so that a cluster starting together elects a leader in a few hundred
   * milliseconds instead of one to two seconds. A member alone always skips to its last tick.
   */
  readonly initialElectionTickAdvance: boolean;
  readonly snapshotCount: number;
  readonly maxRequestBytes: number;
  readonly quotaBackendBytes: number;
  readonly storage: DurableRaftLog;
  readonly persisted: PersistedState;
  readonly kv: KeyValueStore;
  readonly restoreKv: (bytes: Uint8Array) => KeyValueStore;
  /** Peer URLs from --initial-cluster, used until the member registry knows a peer. */
  readonly initialPeers: ReadonlyMap<number, string>;
  readonly metrics?: StoreMetrics;
  /** --auto-compaction-mode and the parsed retention (ms or revisions); 0 is off. */
  readonly autoCompaction?: { readonly mode: AutoCompactionMode; readonly retention: number };
  /** This member's removal was applied: like etcd, it should shut down. */
  readonly onRemoved?: () => void;
  readonly logger: Logger;
  readonly onFatal: (error: unknown) => void;
}

export interface ResponseHeader {
  cluster_id: string;
  member_id: string;
  revision: string;
  raft_term: string;
}

/** What is handed to Raft: an encoded command, or a membership change (proposed differently). */
type Proposal = { readonly kind: 'command'; readonly data: Uint8Array } | { readonly kind: 'membership'; readonly change: MembershipChange };

interface ProposeRequest {
  command: Uint8Array;
  membership_change?: boolean;
}

interface ForwardingClient extends grpc.Client {
  Propose(request: ProposeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<ProposeReply>): void;
  LeaseRenew(request: { id: string }, options: grpc.CallOptions, callback: grpc.requestCallback<LeaseReply>): void;
  LeaseRemaining(request: { id: string }, options: grpc.CallOptions, callback: grpc.requestCallback<LeaseReply>): void;
}
interface ProposeReply {
  ok: boolean;
  reason: string;
  leader: string;
  index: string;
  term: string;
}
interface LeaseReply {
  ttl: string;
  not_leader: boolean;
}

const LEASE_CHECK_MS = 500;
const MAX_REVOKES_PER_CHECK = 500;

/**
 * The error for a proposal the leader refused (so one that surely never applies): "no leader" when
 * leadership was the reason — what clients retry, and what tells them nothing was written.
 */
function refusalError(reason: string): ServerError {
  return reason.includes('leader') ? serverErrors.noLeader() : new ServerError(grpc.status.FAILED_PRECONDITION, `etcdserver: ${reason}`);
}

/**
 * One store member: the Raft node, the state machine it drives, and what the client services need
 * on top — proposing and waiting for results (forwarding to the leader from a follower), linearizable
 * read points, watches, and the leader's lease clock.
 */
export class EtcdServer {
  readonly node: RaftNode;
  readonly stateMachine: StoreStateMachine;
  readonly watches: WatchHub;
  readonly leaseExpiry = new LeaseExpiry();
  private readonly reads: ReadBatcher;
  private readonly transport: PeerTransport;
  private readonly forwarding = loadLeaderForwarding();
  private readonly forwardClients = new Map<string, ForwardingClient>();
  private readonly proposalForwarder: ProposalForwarder;
  private requestCounter = 0;
  private readCounter = 0;
  private role: Role = Role.Follower;
  private lastLeader = 0;
  private leaseTimer: NodeJS.Timeout | undefined;
  private published = false;
  readonly requestTimeoutMs: number;

  constructor(readonly config: EtcdServerConfig) {
    // etcd: 5 s plus the time an election may take.
    this.requestTimeoutMs = 5000 + 2 * config.tickMs * config.electionTicks;
    this.stateMachine = new StoreStateMachine(
      config.kv,
      config.restoreKv,
      {
        onEvents: (events) => this.watches.publish(events),
        onLeaseGranted: (id, ttl) => this.leaseExpiry.track(id, ttl, this.role === Role.Leader),
        onLeaseRevoked: (id) => this.leaseExpiry.forget(id),
        onMembersChanged: (members) => this.membersChanged(members),
        onSnapshotDue: (index, data) => this.node.compact(index, data),
        onSnapshotFailed: (error) => config.onFatal(error),
      },
      config.snapshotCount,
    );
    this.watches = new WatchHub({
      currentRevision: () => this.stateMachine.store().currentRevision(),
      compactRevision: () => this.stateMachine.store().compactRevision(),
      eventsSince: (start, key, end) => this.stateMachine.store().eventsSince(start, key, end),
    });
    this.transport = new PeerTransport({
      selfId: config.memberId,
      clusterId: () => config.clusterId,
      directory: { peerAddress: (id) => this.peerAddress(id) },
      isRemoved: (id) => this.stateMachine.isRemoved(id),
      onRemovedByPeer: () => this.removedFromCluster(),
      logger: config.logger,
    });
    this.proposalForwarder = new ProposalForwarder((leader, proposals) => this.transport.forwardProposals(leader, proposals));
    const random: RandomSource = { int: (max) => randomBytes(4).readUInt32BE(0) % max };
    this.node = new RaftNode({
      raft: {
        id: config.memberId,
        electionTimeoutTicks: config.electionTicks,
        heartbeatTimeoutTicks: 1,
        random,
        maxSizePerMessageBytes: 1024 * 1024,
        maxInflightMessages: 256,
      },
      persisted: config.persisted,
      log: config.storage,
      peers: this.transport,
      stateMachine: {
        restore: (snapshot) => this.stateMachine.restore(snapshot),
        apply: (entries) => {
          const started = performance.now();
          this.stateMachine.apply(entries);
          config.metrics?.applySeconds.observe((performance.now() - started) / 1000);
        },
        softStateChanged: (state, term) => this.softStateChanged(state, term),
      },
      tickMs: config.tickMs,
      onPeerMessageDropped: (message) => config.metrics?.peerReceivedFailures.inc({ From: formatId(message.from) }),
      onFatal: config.onFatal,
    });
    this.reads = new ReadBatcher(() => this.node.readIndex(`${formatId(config.memberId)}-r${this.readCounter++}`, this.requestTimeoutMs));
  }

  /** Registers the peer-facing services and starts the node. */
  start(peerServer: grpc.Server): void {
    this.transport.register(peerServer, {
      step: (message) => this.node.step(message),
      proposals: (from, proposals) => this.takeForwardedProposals(from, proposals),
      refused: (_from, proposals, reason) => this.forwardedProposalsRefused(proposals, reason),
    });
    peerServer.addService(this.forwarding.LeaderForwarding.service, this.forwardingHandlers());
    this.node.start();
    this.adjustTicks().catch((error: unknown) => this.config.logger.warn({ err: String(error) }, 'initial election tick advance failed'));
    this.leaseTimer = setInterval(() => void this.revokeExpiredLeases(), LEASE_CHECK_MS);
    const auto = this.config.autoCompaction;
    if (auto !== undefined && auto.retention > 0) {
      const compactor = new AutoCompactor(auto.mode, auto.retention, Date.now());
      this.compactionTimer = setInterval(() => {
        if (!this.isLeader()) return;
        const store = this.stateMachine.store();
        const revision = compactor.tick(Date.now(), store.currentRevision(), store.compactRevision());
        if (revision === undefined) return;
        this.write({ kind: 'compact', request: { revision } }).then(
          () => this.config.logger.info({ event: 'auto-compaction', revision }, `compacted to revision ${revision}`),
          (error: unknown) => this.config.logger.warn({ revision, err: String(error) }, 'auto compaction failed'),
        );
      }, 1000);
    }
  }

  private compactionTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  /**
   * etcd's adjustTicks: a member alone fast-forwards to one tick before its election timeout; with
   * peers (and --initial-election-tick-advance), it waits up to 5 s, looking every 50 ms, for streams
   * to more than one peer, then fast-forwards all but two ticks: a leader's heartbeat still has two
   * ticks to arrive before this member campaigns.
   */
  private async adjustTicks(): Promise<void> {
    const { voters, learners } = this.node.status().membership;
    const members = [...voters, ...learners];
    const electionTicks = this.config.electionTicks;
    if (members.length === 1) {
      this.config.logger.info({ event: 'initial-election-tick-advance', ticks: electionTicks - 1 }, 'started as a single member; fast-forwarding election ticks');
      this.node.advanceTicks(electionTicks - 1);
      return;
    }
    if (!this.config.initialElectionTickAdvance) return;
    for (let waited = 0; waited < 5000 && !this.stopping; waited += 50) {
      await delay(50);
      if (this.transport.activePeers(members) > 1) {
        this.config.logger.info({ event: 'initial-election-tick-advance', ticks: electionTicks - 2 }, 'peers connected; fast-forwarding election ticks');
        this.node.advanceTicks(electionTicks - 2);
        return;
      }
    }
  }

  /** A raft stream a peer opened on our peer port (the listener read its preface). */
  acceptPeerStream(socket: Socket): void {
    this.transport.acceptStream(socket);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.compactionTimer) clearInterval(this.compactionTimer);
    // A leader hands over first, so the cluster does not wait out an election timeout.
    const status = this.node.status();
    if (status.role === Role.Leader && status.membership.voters.length > 1) {
      const target = status.followers.filter((f) => status.membership.voters.includes(f.id)).sort((a, b) => b.match - a.match)[0];
      if (target) {
        await this.node.transferLeadership(target.id);
        await new Promise((resolve) => setTimeout(resolve, this.config.tickMs * 3));
      }
    }
    await this.node.stop();
    this.transport.close();
    for (const client of this.forwardClients.values()) client.close();
  }

  header(revision = this.stateMachine.store().currentRevision()): ResponseHeader {
    return {
      cluster_id: idToWire(this.config.clusterId),
      member_id: idToWire(this.config.memberId),
      revision: String(revision),
      raft_term: String(this.node.status().term),
    };
  }

  leader(): number {
    return this.node.status().leader;
  }

  isLeader(): boolean {
    return this.node.status().role === Role.Leader;
  }

  /** Replicates a command and resolves with its result on this member once applied. */
  async write(command: Command): Promise<unknown> {
    const id = `${formatId(this.config.memberId)}-${this.requestCounter++}`;
    const data = encodeBinaryJson({ id, command } satisfies Envelope);
    if (data.byteLength > this.config.maxRequestBytes) throw serverErrors.tooLarge();
    if (command.kind !== 'compact' && command.kind !== 'leaseRevoke' && this.overQuota()) throw serverErrors.noSpace();
    return this.proposeAndWait(id, { kind: 'command', data });
  }

  /** Proposes a membership change and resolves with the member list once it is applied. */
  async changeMembership(change: MembershipChange, context: MembershipContext): Promise<Member[]> {
    const requestId = `${formatId(this.config.memberId)}-m${this.requestCounter++}`;
    const proposal = { ...change, context: JSON.stringify({ ...context, requestId }) };
    return (await this.proposeAndWait(requestId, { kind: 'membership', change: proposal })) as Member[];
  }

  /** Waits for request `id`'s apply on this member, having handed its proposal to Raft. */
  private async proposeAndWait(id: string, proposal: Proposal): Promise<unknown> {
    const applied = this.stateMachine.waiters.wait(id, this.requestTimeoutMs);
    // Handled from the start: the waiter may time out while the proposal is still being forwarded.
    applied.catch(() => undefined);
    try {
      await this.propose(proposal);
      const result = await applied;
      if (!result.ok) throw result.error;
      return result.response;
    } catch (error) {
      if (error instanceof ServerError) this.config.metrics?.proposalsFailed.inc();
      throw error;
    }
  }

  /** Waits until this member may serve a linearizable read (etcd's ReadIndex barrier). */
  async linearizableRead(): Promise<void> {
    let index: number;
    try {
      index = await this.reads.read();
    } catch (error) {
      throw this.leader() === 0 ? serverErrors.noLeader() : error instanceof ServerError ? error : serverErrors.timeout();
    }
    await this.stateMachine.appliedIndex.wait(index);
  }

  /** Keep-alive: the TTL the lease now has, or -1 for an unknown lease. Forwarded to the leader. */
  async leaseRenew(id: string): Promise<number> {
    if (this.isLeader()) return this.leaseExpiry.renew(id) ?? -1;
    const reply = await this.forward<LeaseReply>((client, options, callback) => client.LeaseRenew({ id }, options, callback));
    if (reply.not_leader) throw serverErrors.noLeader();
    return Number(reply.ttl);
  }

  async leaseRemaining(id: string): Promise<number> {
    if (this.isLeader()) return this.leaseExpiry.remainingSeconds(id) ?? -1;
    const reply = await this.forward<LeaseReply>((client, options, callback) => client.LeaseRemaining({ id }, options, callback));
    if (reply.not_leader) throw serverErrors.noLeader();
    return Number(reply.ttl);
  }

  private overQuota(): boolean {
    return this.stateMachine.store().sizeBytes() > this.config.quotaBackendBytes;
  }

  /**
   * Hands a proposal to Raft: here if leading, else to the leader. A command goes to the leader on
   * the peer stream, unanswered (its apply, a refusal or the timeout tells the waiter); a membership
   * change, rare and answered, as a call.
   */
  private async propose(proposal: Proposal): Promise<void> {
    if (proposal.kind === 'command' && !this.isLeader() && this.leader() !== 0) {
      this.proposalForwarder.forward(this.leader(), proposal.data);
      return;
    }
    const local = await this.proposeLocally(proposal);
    if (local.ok) return;
    const leader = local.leader || this.leader();
    if (leader === 0 || leader === this.config.memberId) throw leader === 0 ? serverErrors.noLeader() : serverErrors.leaderChanged();
    if (proposal.kind === 'command') {
      this.proposalForwarder.forward(leader, proposal.data);
      return;
    }
    const request = { command: encodeBinaryJson(proposal.change), membership_change: true };
    const reply = await this.forward<ProposeReply>((client, options, callback) => client.Propose(request, options, callback));
    if (!reply.ok) throw refusalError(reply.reason);
  }

  /** As the leader: proposals a follower forwarded; those Raft does not take are sent back. */
  private takeForwardedProposals(from: number, proposals: readonly Uint8Array[]): void {
    Promise.all(proposals.map((data) => this.node.propose(data))).then(
      (results) => {
        const refused = new Map<string, Uint8Array[]>();
        results.forEach((result, i) => {
          if (!result.ok) refused.set(result.reason, [...(refused.get(result.reason) ?? []), proposals[i] as Uint8Array]);
        });
        for (const [reason, batch] of refused) this.transport.refuseProposals(from, batch, reason);
      },
      // A node stopping under us: the follower's pending writes fail on its own leader change.
      (error: unknown) => this.config.logger.debug({ err: error }, 'forwarded proposals not taken'),
    );
  }

  /** As a follower: the leader did not take these proposals of ours, so they will never apply. */
  private forwardedProposalsRefused(proposals: readonly Uint8Array[], reason: string): void {
    for (const data of proposals) {
      let id: string;
      try {
        id = decodeBinaryJson<Envelope>(data).id;
      } catch {
        continue; // not ours to answer
      }
      this.stateMachine.waiters.fail(id, refusalError(reason));
    }
  }

  private async proposeLocally(proposal: Proposal): Promise<{ ok: boolean; leader: number; reason?: string }> {
    if (proposal.kind === 'membership') {
      if (!this.isLeader()) return { ok: false, leader: this.leader() };
      const result = await this.node.proposeMembershipChange(proposal.change);
      if (!result.ok) {
        if (result.reason.includes('not caught up')) throw serverErrors.learnerNotReady();
        throw new ServerError(grpc.status.FAILED_PRECONDITION, `etcdserver: ${result.reason}`);
      }
      return { ok: true, leader: this.config.memberId };
    }
    const result = await this.node.propose(proposal.data);
    return result.ok ? { ok: true, leader: this.config.memberId } : { ok: false, leader: result.leader, reason: result.reason };
  }

  private forward<T>(call: (client: ForwardingClient, options: grpc.CallOptions, callback: grpc.requestCallback<T>) => void): Promise<T> {
    const leader = this.leader();
    const address = leader === 0 ? undefined : this.peerAddress(leader);
    if (address === undefined) return Promise.reject(serverErrors.noLeader());
    let client = this.forwardClients.get(address);
    if (client === undefined) {
      client = new this.forwarding.LeaderForwarding(address, grpc.credentials.createInsecure(), PEER_CHANNEL_OPTIONS) as unknown as ForwardingClient;
      this.forwardClients.set(address, client);
    }
    const forwardClient = client;
    return new Promise((resolve, reject) => {
      call(forwardClient, { deadline: Date.now() + this.requestTimeoutMs }, (error, reply) => {
        if (error || reply === undefined) reject(error?.code === grpc.status.DEADLINE_EXCEEDED ? serverErrors.timeout() : serverErrors.leaderChanged());
        else resolve(reply);
      });
    });
  }

  private forwardingHandlers(): grpc.UntypedServiceImplementation {
    return {
      Propose: (call: grpc.ServerUnaryCall<ProposeRequest, ProposeReply>, callback: grpc.sendUnaryData<object>) => {
        const command = new Uint8Array(call.request.command);
        const proposal: Proposal = call.request.membership_change
          ? { kind: 'membership', change: decodeBinaryJson<MembershipChange>(command) }
          : { kind: 'command', data: command };
        this.proposeLocally(proposal).then(
          (result) => callback(null, { ok: result.ok, reason: result.reason ?? '', leader: result.leader }),
          (error: unknown) => callback(null, { ok: false, reason: error instanceof Error ? error.message : String(error), leader: this.leader() }),
        );
      },
      LeaseRenew: (call: grpc.ServerUnaryCall<{ id: string }, LeaseReply>, callback: grpc.sendUnaryData<object>) => {
        if (!this.isLeader()) callback(null, { ttl: -1, not_leader: true });
        else callback(null, { ttl: this.leaseExpiry.renew(String(call.request.id)) ?? -1 });
      },
      LeaseRemaining: (call: grpc.ServerUnaryCall<{ id: string }, LeaseReply>, callback: grpc.sendUnaryData<object>) => {
        if (!this.isLeader()) callback(null, { ttl: -1, not_leader: true });
        else callback(null, { ttl: this.leaseExpiry.remainingSeconds(String(call.request.id)) ?? -1 });
      },
    };
  }

  private softStateChanged(state: SoftState, term: number): void {
    const was = this.role;
    this.role = state.role;
    if (state.role === Role.Leader && was !== Role.Leader) this.leaseExpiry.promote();
    if (state.role !== Role.Leader && was === Role.Leader) this.leaseExpiry.demote();
    if (state.leader !== this.lastLeader) {
      // What this member proposed or forwarded and has not seen applied may or may not commit
      // under the next leader: say so now ("leader changed", which clients retry) rather than
      // after the request timeout. etcd's clients see the same error for the same doubt.
      if (this.lastLeader !== 0) this.stateMachine.waiters.failAll(serverErrors.leaderChanged());
      this.lastLeader = state.leader;
      if (state.leader !== 0) this.config.metrics?.leaderChanges.inc();
      this.config.logger.info(
        { event: 'leader-changed', leader: formatId(state.leader), role: state.role, term },
        state.leader === 0 ? 'lost the leader' : `leader is ${formatId(state.leader)}`,
      );
    }
    if (state.leader !== 0 && !this.published) void this.publishSelf();
  }

  /** Like etcd, a member publishes its name and client URLs through Raft once a leader exists. */
  private async publishSelf(): Promise<void> {
    this.published = true;
    const me = this.stateMachine.member(this.config.memberId);
    if (me && me.name === this.config.name && sameList(me.clientURLs, this.config.clientURLs)) return;
    try {
      await this.write({ kind: 'publish', member: this.config.memberId, name: this.config.name, clientURLs: [...this.config.clientURLs] });
    } catch (error) {
      this.published = false;
      this.config.logger.warn({ err: String(error) }, 'publishing member attributes failed; will retry');
    }
  }

  /**
   * Proposes a revoke for each expired lease. The lease stays tracked (with its TTL) until the revoke
   * applies; while a revoke is in flight it is not proposed again, and a failed one is retried.
   */
  private async revokeExpiredLeases(): Promise<void> {
    if (!this.isLeader()) return;
    for (const id of this.leaseExpiry.expired(MAX_REVOKES_PER_CHECK + this.revoking.size)) {
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.write({ kind: 'leaseRevoke', id })
        .catch((error: unknown) => this.config.logger.warn({ lease: id, err: String(error) }, 'revoking an expired lease failed'))
        .finally(() => this.revoking.delete(id));
    }
  }

  private readonly revoking = new Set<string>();

  private membersChanged(members: ReadonlyMap<number, Member>): void {
    for (const id of this.knownPeers) if (!members.has(id)) this.transport.forget(id);
    const wasMember = this.knownPeers.has(this.config.memberId);
    this.knownPeers = new Set(members.keys());
    if (wasMember && !members.has(this.config.memberId)) this.removedFromCluster();
  }

  private removedFromCluster(): void {
    if (this.removed) return;
    this.removed = true;
    this.config.logger.warn({ event: 'member-removed' }, 'the member has been permanently removed from the cluster');
    this.config.onRemoved?.();
  }

  private removed = false;

  private knownPeers = new Set<number>();

  /** Called for every message sent: URLs are parsed once. */
  private peerAddress(id: number): string | undefined {
    const url = this.stateMachine.member(id)?.peerURLs[0] ?? this.config.initialPeers.get(id);
    if (url === undefined) return undefined;
    let address = this.peerAddresses.get(url);
    if (address === undefined) {
      const parsed = new URL(url);
      address = `${parsed.hostname}:${parsed.port}`;
      this.peerAddresses.set(url, address);
    }
    return address;
  }

  private readonly peerAddresses = new Map<string, string>();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
