import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadRaftTransport } from '@k8ts/proto';
import { EntryType, MessageType, type Message, type NodeId } from '@k8ts/raft';
import type { Logger } from 'pino';
import { decodePeerMessage, encodePeerMessage, encodeRaftMessage, toPeerMessage, toRaftMessage, type PeerMessage } from './raft_codec.js';
import { FrameReader, RAFT_STREAM_PREFACE, frame, splitAddress, type StreamRefusal } from './raft_stream.js';
import type { PeerSender } from '@k8ts/raft';

/** Where each peer listens for Raft traffic ("host:port"), as the membership knows it now. */
export interface PeerDirectory {
  peerAddress(id: NodeId): string | undefined;
}

/** A bound on bytes queued for one peer (an append holds at most ~1 MiB of entries). */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** The refusal a removed member's traffic gets (etcd's rafthttp answers such a member 410 Gone). */
const MEMBER_REMOVED = 'k8ts: the member has been permanently removed from the cluster';
/** Peer messages carry whole snapshots: allow far more than gRPC's 4 MiB default. */
export const PEER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 1024 * 1024 * 1024,
  'grpc.max_send_message_length': 1024 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  // A peer back from a crash or a partition should hear from us within a heartbeat or two, not
  // after grpc's default backoff (1 s growing to 120 s).
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

/**
 * The RaftTransport service with RaftMessage read and written by our codec (raft_codec.ts), and
 * the ack by proto-loader's generic one.
 */
function peerServiceDefinition(generic: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const send = generic['Send'];
  if (send === undefined) throw new Error('k8ts.raftpb.RaftTransport has no method Send');
  return { Send: { ...(send as grpc.MethodDefinition<unknown, unknown>), requestSerialize: encodePeerMessage, requestDeserialize: decodePeerMessage } };
}

/** What the transport hands to the store server. */
export interface PeerHandlers {
  /** A Raft message for the local node. */
  step(message: Message): void;
  /** Proposals a follower's clients made, forwarded to us as its leader. */
  proposals(from: NodeId, proposals: Uint8Array[]): void;
  /** Proposals we forwarded that the leader could not take, and why. */
  refused(from: NodeId, proposals: Uint8Array[], reason: string): void;
}

/**
 * One peer's outgoing connection: a raft stream (raft_stream.ts), re-opened after a failure,
 * dropping while down; snapshots go as gRPC calls of their own.
 */
class PeerConnection {
  private socket: Socket | undefined;
  private retryAfter = 0;

  constructor(
    readonly address: string,
    private readonly client: grpc.Client & Record<string, unknown>,
    private readonly logger: Logger,
    private readonly onRemoved: () => void,
  ) {}

  /** A Raft message, as one of cluster `clusterId`. */
  sendRaft(message: Message, clusterId: number): void {
    if (message.type === MessageType.InstallSnapshot) {
      // Snapshots go on their own call so they neither wait behind nor delay the stream.
      const unary = this.client['Send'] as (m: PeerMessage, cb: (error: grpc.ServiceError | null) => void) => void;
      unary.call(this.client, toPeerMessage(message, clusterId), (error) => {
        if (error?.details === MEMBER_REMOVED) this.onRemoved();
        else if (error) this.logger.warn({ peer: this.address, err: error.message }, 'snapshot send failed');
      });
      return;
    }
    this.write(encodeRaftMessage(message, clusterId, 4));
  }

  /** Proposals forwarded to the leader or refused by it. */
  send(message: PeerMessage): void {
    this.write(encodePeerMessage(message, 4));
  }

  /** `body` (4 bytes reserved in front) as one frame on the stream. */
  private write(body: Buffer): void {
    const socket = this.stream();
    // Dropped when the peer is unreachable or far behind: Raft retries what matters.
    if (socket === undefined || socket.writableLength >= MAX_QUEUED_BYTES) return;
    socket.write(frame(body, true));
  }

  /** Whether our raft stream to the peer is connected; asking dials it when it is not. */
  active(): boolean {
    return this.stream()?.readyState === 'open';
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.client.close();
  }

  private stream(): Socket | undefined {
    if (this.socket !== undefined) return this.socket;
    if (Date.now() < this.retryAfter) return undefined;
    // Writes made while it connects wait in the socket; if it never connects they are dropped.
    const socket = connect({ ...splitAddress(this.address), noDelay: true });
    socket.write(RAFT_STREAM_PREFACE);
    const replies = new FrameReader(64 * 1024);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const reply of replies.push(chunk)) {
          const refusal = JSON.parse(reply.toString('utf8')) as StreamRefusal;
          if (refusal.details === MEMBER_REMOVED) this.onRemoved();
          // Debug, not warn: the stream is retried every 100 ms, so a lasting refusal would flood.
          else this.logger.debug({ peer: this.address, code: refusal.code, details: refusal.details }, 'peer refused our raft stream');
        }
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', (error) => this.logger.debug({ peer: this.address, err: error.message }, 'raft stream to peer failed'));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.retryAfter = Date.now() + 100;
    });
    this.socket = socket;
    return socket;
  }
}

/**
 * Sends Raft messages to peers (raft streams; snapshots over gRPC) and receives theirs. Best effort
 * by design: a message to an unreachable or congested peer is dropped, never queued without bound;
 * Raft retries what matters.
 */
export class PeerTransport implements PeerSender {
  private readonly connections = new Map<NodeId, PeerConnection>();
  private readonly service = peerServiceDefinition(loadRaftTransport().RaftTransport.service);
  private readonly Client = grpc.makeGenericClientConstructor(this.service, 'RaftTransport');

  constructor(
    private readonly options: {
      readonly selfId: NodeId;
      readonly clusterId: () => number;
      readonly directory: PeerDirectory;
      /** Whether a sender was removed from the cluster: its traffic is refused. */
      readonly isRemoved: (id: NodeId) => boolean;
      /** A peer refused our traffic because we were removed. */
      readonly onRemovedByPeer: () => void;
      readonly logger: Logger;
    },
  ) {}

  send(messages: readonly Message[]): void {
    const clusterId = this.options.clusterId();
    for (const message of messages) this.connection(message.to)?.sendRaft(message, clusterId);
  }

  /**
   * How many of `peers` we hold a connected raft stream to (etcd's rafthttp ActivePeers); asking
   * dials those not connected yet.
   */
  activePeers(peers: readonly NodeId[]): number {
    return peers.filter((id) => id !== this.options.selfId && this.connection(id)?.active() === true).length;
  }

  /** Forwards our clients' proposals to the leader (one message per call; see ProposalForwarder). */
  forwardProposals(leader: NodeId, proposals: readonly Uint8Array[]): void {
    this.connection(leader)?.send(this.proposalsMessage('ForwardedProposals', leader, proposals));
  }

  /** Tells a follower that the proposals it forwarded were not taken, and why. */
  refuseProposals(follower: NodeId, proposals: readonly Uint8Array[], reason: string): void {
    this.connection(follower)?.send(this.proposalsMessage('RefusedProposals', follower, proposals, reason));
  }

  /**
   * The RaftTransport service (snapshots) to register on the peer server; what arrives there and on
   * raft streams (`acceptStream`) goes to `handlers`.
   */
  register(server: grpc.Server, handlers: PeerHandlers): void {
    const accept = (wire: PeerMessage): grpc.StatusObject | undefined => {
      if (wire.clusterId !== this.options.clusterId()) {
        return { code: grpc.status.FAILED_PRECONDITION, details: `message from cluster ${String(wire.clusterId)}`, metadata: new grpc.Metadata() };
      }
      const { from, to } = wire;
      if (this.options.isRemoved(from)) {
        return { code: grpc.status.FAILED_PRECONDITION, details: MEMBER_REMOVED, metadata: new grpc.Metadata() };
      }
      if (to !== this.options.selfId) {
        return { code: grpc.status.FAILED_PRECONDITION, details: `message for member ${to}`, metadata: new grpc.Metadata() };
      }
      if (wire.type === 'ForwardedProposals' || wire.type === 'RefusedProposals') {
        const proposals = wire.entries.map((entry) => entry.data);
        if (wire.type === 'ForwardedProposals') handlers.proposals(from, proposals);
        else handlers.refused(from, proposals, wire.context ?? '');
        return undefined;
      }
      handlers.step(toRaftMessage(wire));
      return undefined;
    };
    this.acceptMessage = accept;
    server.addService(this.service, {
      Send: (call: grpc.ServerUnaryCall<PeerMessage, unknown>, callback: grpc.sendUnaryData<object>) => {
        const refusal = accept(call.request);
        if (refusal) callback(refusal);
        else callback(null, {});
      },
    });
  }

  private acceptMessage: ((wire: PeerMessage) => grpc.StatusObject | undefined) | undefined;

  /**
   * A raft stream a peer opened (its preface already read by the port's listener): every frame is a
   * message for `register`'s handlers; the first refused or malformed one ends the stream, with the
   * reason sent back.
   */
  acceptStream(socket: Socket): void {
    const reader = new FrameReader();
    let open = true;
    const refuse = (refusal: StreamRefusal): void => {
      open = false;
      socket.end(frame(Buffer.from(JSON.stringify({ code: refusal.code, details: refusal.details }), 'utf8')));
    };
    socket.on('data', (chunk: Buffer) => {
      if (!open) return;
      const accept = this.acceptMessage;
      if (accept === undefined) return refuse({ code: grpc.status.UNAVAILABLE, details: 'raft transport not started' });
      let messages: PeerMessage[];
      try {
        messages = reader.push(chunk).map(decodePeerMessage);
      } catch (error) {
        return refuse({ code: grpc.status.INVALID_ARGUMENT, details: error instanceof Error ? error.message : String(error) });
      }
      for (const message of messages) {
        const refusal = accept(message);
        if (refusal !== undefined) return refuse({ code: refusal.code, details: refusal.details });
      }
    });
    socket.on('error', () => socket.destroy());
  }

  /** Drops connections to peers that left or moved. */
  forget(id: NodeId): void {
    this.connections.get(id)?.close();
    this.connections.delete(id);
  }

  close(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  private proposalsMessage(type: PeerMessage['type'], to: NodeId, proposals: readonly Uint8Array[], reason?: string): PeerMessage {
    return {
      clusterId: this.options.clusterId(),
      type,
      from: this.options.selfId,
      to,
      term: 0,
      index: 0,
      logTerm: 0,
      entries: proposals.map((data) => ({ index: 0, term: 0, type: EntryType.Normal, data })),
      commit: 0,
      reject: false,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
      ...(reason === undefined ? {} : { context: reason }),
      force: false,
    };
  }

  private connection(id: NodeId): PeerConnection | undefined {
    const address = this.options.directory.peerAddress(id);
    if (address === undefined) return undefined;
    const existing = this.connections.get(id);
    if (existing?.address === address) return existing;
    existing?.close();
    const client = new this.Client(address, grpc.credentials.createInsecure(), PEER_CHANNEL_OPTIONS);
    const connection = new PeerConnection(address, client as grpc.Client & Record<string, unknown>, this.options.logger, this.options.onRemovedByPeer);
    this.connections.set(id, connection);
    return connection;
  }
}
