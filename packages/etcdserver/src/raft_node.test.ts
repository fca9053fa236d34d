import type { AddressInfo, Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { bootstrapState, MessageType, Role, type Entry, type Message, type NodeId } from '@k8ts/raft';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { PeerTransport } from './peer_transport.js';
import { grpcJsAcceptor, listenClientUrl } from './port_listener.js';
import { RAFT_STREAM_PREFACE } from './raft_stream.js';
import { RaftNode, type DurableRaftLog } from '@k8ts/raft';
import { eventually } from './test_support.js';

const logger = pino({ level: 'silent' });

interface Member {
  node: RaftNode;
  server: grpc.Server;
  closeListener: () => void;
  transport: PeerTransport;
  applied: string[];
  log: HoldableLog;
  dropped: Message[];
}

/**
 * A log whose saves can be held: a held synced save is one the node's loop waits for, so while it
 * is held the node takes no input from its queue.
 */
class HoldableLog implements DurableRaftLog {
  private held: Array<() => void> | undefined;
  syncedSavesHeld = 0;

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.syncedSavesHeld = 0;
    for (const resume of held) resume();
  }

  async save(batch: { sync?: boolean }): Promise<void> {
    if (this.held === undefined) return;
    if (batch.sync === true) this.syncedSavesHeld++;
    await new Promise<void>((resume) => this.held?.push(resume));
  }

  async saveSnapshot(): Promise<void> {}
}

const members: Member[] = [];
afterEach(async () => {
  for (const member of members.splice(0)) {
    member.log.release();
    await member.node.stop();
    member.transport.close();
    member.server.forceShutdown();
    member.closeListener();
  }
});

/** A peer port as the store has one: gRPC and raft streams on one listener. */
async function listenPeer(server: grpc.Server, streams: (socket: Socket) => void): Promise<{ port: number; close: () => void }> {
  const listener = await listenClientUrl('http://127.0.0.1:0', grpcJsAcceptor(server), (_request, response) => response.writeHead(404).end(), {
    preface: RAFT_STREAM_PREFACE,
    accept: streams,
  });
  return { port: (listener.address() as AddressInfo).port, close: () => listener.close() };
}

async function cluster(size: number, options: { maxQueuedInputs?: number } = {}): Promise<Member[]> {
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const servers = ids.map(() => new grpc.Server());
  const transports: PeerTransport[] = [];
  const listeners = await Promise.all(servers.map((server, i) => listenPeer(server, (socket) => transports[i]?.acceptStream(socket))));
  const addresses = new Map<NodeId, string>(ids.map((id, i) => [id, `127.0.0.1:${listeners[i]?.port ?? 0}`]));
  for (const [i, id] of ids.entries()) {
    const applied: string[] = [];
    const dropped: Message[] = [];
    const log = new HoldableLog();
    const transport = new PeerTransport({
      selfId: id,
      clusterId: () => 7,
      directory: { peerAddress: (peer) => addresses.get(peer) },
      isRemoved: () => false,
      onRemovedByPeer: () => undefined,
      logger,
    });
    transports.push(transport);
    const node = new RaftNode({
      raft: { id, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, random: { int: (n) => Math.floor(Math.random() * n) } },
      persisted: bootstrapState(ids),
      log,
      peers: transport,
      stateMachine: {
        restore: () => undefined,
        apply: (entries: readonly Entry[]) => {
          for (const entry of entries) if (entry.data.byteLength > 0 && entry.type === 0) applied.push(Buffer.from(entry.data).toString());
        },
      },
      tickMs: 10,
      ...options,
      onPeerMessageDropped: (message) => dropped.push(message),
      onFatal: (error) => {
        throw error;
      },
    });
    const server = servers[i] as grpc.Server;
    transport.register(server, { step: (message) => node.step(message), proposals: () => undefined, refused: () => undefined });
    members.push({ node, server, closeListener: (listeners[i] as { close: () => void }).close, transport, applied, log, dropped });
  }
  for (const member of members) member.node.start();
  return members;
}

describe('RaftNode over the gRPC peer transport', () => {
  test('three members elect a leader, replicate proposals, and serve a read index', async () => {
    const all = await cluster(3);
    const leader = await eventually(() => all.find((member) => member.node.status().role === Role.Leader));
    for (let i = 0; i < 20; i++) {
      const result = await leader.node.propose(Buffer.from(`v${i}`));
      expect(result.ok).toBe(true);
    }
    await eventually(() => (all.every((member) => member.applied.length === 20) ? true : undefined));
    for (const member of all) expect(member.applied).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    const follower = all.find((member) => member !== leader) as Member;
    const index = await follower.node.readIndex('read-1', 2000);
    expect(index).toBeGreaterThanOrEqual(21);
  });

  test('a full input queue drops peer messages and counts them, still queues ticks, and Raft catches the member up', async () => {
    const bound = 8;
    const all = await cluster(3, { maxQueuedInputs: bound });
    const leader = await eventually(() => all.find((member) => member.node.status().role === Role.Leader));
    const follower = all.find((member) => member !== leader) as Member;
    // First one entry every member applies: the leader then replicates to the follower optimistically
    // (a follower still being probed gets no further appends until it answers, so none would be dropped).
    expect((await leader.node.propose(Buffer.from('warm'))).ok).toBe(true);
    await eventually(() => (all.every((member) => member.applied.includes('warm')) ? true : undefined));

    // The follower's loop stops taking input: it waits for the synced save of this entry.
    follower.log.hold();
    expect((await leader.node.propose(Buffer.from('before'))).ok).toBe(true);
    await eventually(() => (follower.log.syncedSavesHeld > 0 ? true : undefined));
    // The leader's heartbeats fill the follower's queue; past the bound they are dropped and counted.
    await eventually(() => (follower.dropped.length > 0 ? true : undefined));
    expect(follower.node.queuedInputs()).toBeGreaterThanOrEqual(bound);

    // Entries the leader commits meanwhile (with the other follower) reach this one only to be dropped.
    for (const value of ['during-0', 'during-1', 'during-2']) expect((await leader.node.propose(Buffer.from(value))).ok).toBe(true);
    await eventually(() => (follower.dropped.some((message) => message.type === MessageType.Append && message.entries.length > 0) ? true : undefined));
    expect(follower.dropped.every((message) => message.to === follower.node.id)).toBe(true);
    // Ticks are never dropped: they take the queue past the bound, where no peer message goes.
    await eventually(() => (follower.node.queuedInputs() > bound ? true : undefined));
    // A local proposal is refused, as the bound promises.
    expect(await follower.node.propose(Buffer.from('refused'))).toEqual({ ok: false, reason: 'server is overloaded', leader: 0 });

    // Once the loop runs again, Raft resends what was dropped and every member applies every entry.
    follower.log.release();
    const expected = ['warm', 'before', 'during-0', 'during-1', 'during-2'];
    await eventually(() => (all.every((member) => member.applied.join() === expected.join()) ? true : undefined));
    const current = await eventually(() => all.find((member) => member.node.status().role === Role.Leader));
    expect((await current.node.propose(Buffer.from('after'))).ok).toBe(true);
    await eventually(() => (all.every((member) => member.applied.at(-1) === 'after') ? true : undefined));
  });

  test('a follower refuses proposals and names the leader', async () => {
    const all = await cluster(3);
    const leader = await eventually(() => all.find((member) => member.node.status().role === Role.Leader));
    const follower = await eventually(() => all.find((member) => member !== leader && member.node.status().leader === leader.node.id));
    expect(await follower.node.propose(Buffer.from('x'))).toMatchObject({ ok: false, leader: leader.node.id });
  });
});

describe('PeerTransport', () => {
  test('carries forwarded proposals to the leader and refusals back, beside Raft traffic', async () => {
    const servers = [new grpc.Server(), new grpc.Server()];
    const streams: PeerTransport[] = [];
    const listeners = await Promise.all(servers.map((server, i) => listenPeer(server, (socket) => streams[i]?.acceptStream(socket))));
    const ports = listeners.map((listener) => listener.port);
    const received: string[] = [];
    const transports = [1, 2].map((id, i) => {
      const transport = new PeerTransport({
        selfId: id,
        clusterId: () => 7,
        directory: { peerAddress: (peer) => `127.0.0.1:${ports[peer - 1] ?? 0}` },
        isRemoved: () => false,
        onRemovedByPeer: () => undefined,
        logger,
      });
      const text = (batch: Uint8Array[]): string => batch.map((data) => Buffer.from(data).toString()).join(',');
      transport.register(servers[i] as grpc.Server, {
        step: (message) => received.push(`${id} stepped ${message.type} from ${message.from}`),
        proposals: (from, batch) => received.push(`${id} got proposals ${text(batch)} from ${from}`),
        refused: (from, batch, reason) => received.push(`${id} got refusal of ${text(batch)} from ${from}: ${reason}`),
      });
      streams.push(transport);
      return transport;
    });
    try {
      const [follower, leader] = transports as [PeerTransport, PeerTransport];
      follower.forwardProposals(2, [Buffer.from('p1'), Buffer.from('p2')]);
      leader.refuseProposals(1, [Buffer.from('p2')], 'not the leader');
      await eventually(() => (received.length === 2 ? true : undefined));
      expect(received.sort()).toEqual(['1 got refusal of p2 from 2: not the leader', '2 got proposals p1,p2 from 1']);
    } finally {
      for (const transport of transports) transport.close();
      for (const server of servers) server.forceShutdown();
      for (const listener of listeners) listener.close();
    }
  });
});

