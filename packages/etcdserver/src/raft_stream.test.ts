import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { EntryType, MessageType, type Message } from '@k8ts/raft';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerTransport, type PeerHandlers } from './peer_transport.js';
import { grpcJsAcceptor, listenClientUrl } from './port_listener.js';
import { encodePeerMessage } from './raft_codec.js';
import { FrameReader, MAX_FRAME_BYTES, RAFT_STREAM_PREFACE, frame, splitAddress } from './raft_stream.js';

describe('FrameReader', () => {
  it('cuts frames however the bytes arrive, holding a partial frame for the rest', () => {
    const frames = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world')].map((body) => frame(body));
    const stream = Buffer.concat(frames);
    for (const cut of [1, 3, 5, 7, 12, stream.length]) {
      const reader = new FrameReader();
      const got = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(got.map((body) => body.toString())).toEqual(['a', '', 'hello world']);
    }
  });

  it('refuses a frame over its bound (garbage or a hostile peer) rather than buffering it', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1);
    expect(() => new FrameReader().push(header)).toThrow(/exceeds/);
  });

  it('frames a body that kept its first 4 bytes free without copying it', () => {
    const body = Buffer.from([0, 0, 0, 0, 9, 8]);
    expect(frame(body, true)).toBe(body);
    expect([...body]).toEqual([0, 0, 0, 2, 9, 8]);
  });
});

describe('splitAddress', () => {
  it('reads host:port and [IPv6]:port', () => {
    expect(splitAddress('127.0.0.1:2380')).toEqual({ host: '127.0.0.1', port: 2380 });
    expect(splitAddress('[::1]:2380')).toEqual({ host: '::1', port: 2380 });
  });
});

/** Two transports over real sockets, the receiver behind the store's port listener. */
describe('PeerTransport raft streams', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  async function receiver(options: { clusterId?: number; removed?: number[] } = {}): Promise<{ port: number; stepped: Message[]; forwarded: Uint8Array[][] }> {
    const stepped: Message[] = [];
    const forwarded: Uint8Array[][] = [];
    const transport = new PeerTransport({
      selfId: 2,
      clusterId: () => options.clusterId ?? 7,
      directory: { peerAddress: () => undefined },
      isRemoved: (id) => (options.removed ?? []).includes(id),
      onRemovedByPeer: () => undefined,
      logger: pino({ level: 'silent' }),
    });
    const handlers: PeerHandlers = { step: (message) => stepped.push(message), proposals: (_from, proposals) => forwarded.push(proposals), refused: () => undefined };
    const server = new grpc.Server();
    transport.register(server, handlers);
    // The store's own port listener: gRPC, HTTP and raft streams told apart by their first bytes.
    const listener = await listenClientUrl('http://127.0.0.1:0', grpcJsAcceptor(server), (_request, response) => response.writeHead(404).end(), {
      preface: RAFT_STREAM_PREFACE,
      accept: (socket) => transport.acceptStream(socket),
    });
    cleanups.push(() => {
      listener.close();
      server.forceShutdown();
    });
    return { port: (listener.address() as AddressInfo).port, stepped, forwarded };
  }

  function sender(port: number, onRemoved: () => void = () => undefined, logger = pino({ level: 'silent' })): PeerTransport {
    const transport = new PeerTransport({
      selfId: 1,
      clusterId: () => 7,
      directory: { peerAddress: () => `127.0.0.1:${port}` },
      isRemoved: () => false,
      onRemovedByPeer: onRemoved,
      logger,
    });
    cleanups.push(() => transport.close());
    return transport;
  }

  const append = (index: number): Message => ({
    type: MessageType.Append,
    from: 1,
    to: 2,
    term: 3,
    index,
    logTerm: 3,
    entries: [{ index: index + 1, term: 3, type: EntryType.Normal, data: new Uint8Array([index]) }],
    commit: index,
    reject: false,
    rejectHintIndex: 0,
    rejectHintTerm: 0,
  });

  /** Polls until `check` holds; the deadline only stops the wait on a stuck run. */
  async function until(check: () => boolean, what = 'the condition'): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('delivers messages and forwarded proposals in order', async () => {
    const peer = await receiver();
    const transport = sender(peer.port);
    transport.send([append(1), append(2)]);
    transport.forwardProposals(2, [new Uint8Array([5]), new Uint8Array([6])]);
    transport.send([append(3)]);
    await until(() => peer.stepped.length === 3 && peer.forwarded.length === 1);
    expect(peer.stepped).toEqual([append(1), append(2), append(3)]);
    expect(peer.forwarded).toEqual([[new Uint8Array([5]), new Uint8Array([6])]]);
  });

  it('a removed member is told so, and learns it must stop', async () => {
    const peer = await receiver({ removed: [1] });
    let removed = 0;
    sender(peer.port, () => removed++).send([append(1)]);
    await until(() => removed > 0);
    expect(removed).toBe(1);
    expect(peer.stepped).toEqual([]);
  });

  it('a message from another cluster or malformed bytes end the stream; nothing is stepped', async () => {
    const foreign = await receiver({ clusterId: 8 });
    // The sender logs the receiver's refusal: once it has, the receiver has judged the message.
    const senderLog: string[] = [];
    sender(foreign.port, undefined, pino({ level: 'debug' }, { write: (line: string) => void senderLog.push(line) })).send([append(1)]);
    const garbage = await receiver();
    const socket = connect(garbage.port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    socket.write(Buffer.concat([RAFT_STREAM_PREFACE, frame(Buffer.from([0x10, 0x63])), frame(encodePeerMessage({ ...append(1), clusterId: 7 }))]));
    const replies = new FrameReader();
    const [reply] = replies.push((await once(socket, 'data'))[0] as Buffer);
    expect(JSON.parse(String(reply))).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'unknown raft message type 99' });
    await once(socket, 'end');
    await until(() => senderLog.some((line) => line.includes('peer refused our raft stream') && line.includes('message from cluster 7')), 'the foreign receiver refusing the stream');
    expect(foreign.stepped).toEqual([]);
    expect(garbage.stepped).toEqual([]);
  });
});
