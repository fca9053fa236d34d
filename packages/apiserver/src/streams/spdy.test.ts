import { createServer, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { FLAG_FIN, FrameReader, FrameType, HeaderCodec, SPDY_DICTIONARY, SpdyConnection, controlFrame, dataFrame, type Frame, type SpdyStream } from './spdy.js';

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A SPDY client as spdystream is one: opens streams, keeps its own header compression contexts. */
class TestClient {
  readonly codec = new HeaderCodec();
  readonly reader = new FrameReader();
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.reader.push(chunk));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async open(id: number, headers: Record<string, string>, flags = 0): Promise<void> {
    const block = await this.codec.encode(headers);
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id, 0);
    this.socket.write(controlFrame(FrameType.SYN_STREAM, flags, Buffer.concat([head, block])));
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async next(match: (frame: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0] as Frame;
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function pair(): Promise<{ client: TestClient; connection: SpdyConnection }> {
  let accepted!: (socket: Socket) => void;
  const serverSide = new Promise<Socket>((resolve) => (accepted = resolve));
  const server = createServer((socket) => accepted(socket));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const port = (server.address() as { port: number }).port;
  const socket = connect(port, '127.0.0.1');
  const connection = new SpdyConnection(await serverSide);
  cleanups.push(() => {
    socket.destroy();
    server.close();
  });
  return { client: new TestClient(socket), connection };
}

describe('SPDY/3.1 framing', () => {
  test('the header dictionary is SPDY/3\'s (1423 bytes, Adler-32 0xe3c6a7c2)', () => {
    expect(SPDY_DICTIONARY.length).toBe(1423);
    expect(adler32(SPDY_DICTIONARY)).toBe(0xe3c6a7c2);
  });

  test('header blocks round-trip through one zlib context per direction, names lowercased', async () => {
    const writer = new HeaderCodec();
    const reader = new HeaderCodec();
    for (let n = 0; n < 3; n++) {
      const block = await writer.encode({ StreamType: 'data', port: String(8080 + n), requestID: String(n) });
      expect(await reader.decode(block)).toEqual({ streamtype: 'data', port: String(8080 + n), requestid: String(n) });
    }
  });

  test('frames split across and joined in chunks are read whole', () => {
    const reader = new FrameReader();
    const bytes = Buffer.concat([dataFrame(3, FLAG_FIN, Buffer.from('abc')), controlFrame(FrameType.PING, 0, Buffer.from([0, 0, 0, 1]))]);
    expect(reader.push(bytes.subarray(0, 5))).toEqual([]);
    const frames = reader.push(bytes.subarray(5));
    expect(frames).toEqual([
      { kind: 'data', streamId: 3, flags: FLAG_FIN, payload: Buffer.from('abc') },
      { kind: 'control', type: FrameType.PING, flags: 0, payload: Buffer.from([0, 0, 0, 1]) },
    ]);
  });

  test('a client stream: SYN_REPLY, data both ways, FIN both ways; PINGs are echoed', async () => {
    const { client, connection } = await pair();
    const opened = new Promise<SpdyStream>((resolve) => connection.on('stream', resolve));
    await client.open(1, { streamType: 'data', port: '80' });
    const stream = await opened;
    expect(stream.headers).toEqual({ streamtype: 'data', port: '80' });
    const reply = await client.next((frame) => frame.kind === 'control' && frame.type === FrameType.SYN_REPLY);
    expect(reply.payload.readUInt32BE(0)).toBe(1);
    const received: string[] = [];
    stream.onData = (chunk) => void received.push(chunk.toString());
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    client.send(dataFrame(1, 0, Buffer.from('ping?')));
    client.send(dataFrame(1, FLAG_FIN, Buffer.alloc(0)));
    await ended;
    expect(received).toEqual(['ping?']);
    await stream.write(Buffer.from('pong!'));
    stream.end();
    const data = await client.next((frame) => frame.kind === 'data' && frame.payload.length > 0);
    expect(data.payload.toString()).toBe('pong!');
    const fin = await client.next((frame) => frame.kind === 'data' && (frame.flags & FLAG_FIN) !== 0);
    expect(fin.kind === 'data' && fin.streamId).toBe(1);
    expect(stream.closed).toBe(true);
    client.send(controlFrame(FrameType.PING, 0, Buffer.from([0, 0, 0, 7])));
    const pong = await client.next((frame) => frame.kind === 'control' && frame.type === FrameType.PING);
    expect(pong.payload.readUInt32BE(0)).toBe(7);
  });

  test('RST_STREAM closes the stream; the transport closing closes them all', async () => {
    const { client, connection } = await pair();
    const opened: SpdyStream[] = [];
    const two = new Promise<void>((resolve) => connection.on('stream', (stream: SpdyStream) => opened.push(stream) === 2 && resolve()));
    await client.open(1, { streamtype: 'error' });
    await client.open(3, { streamtype: 'data' });
    await two;
    const reset = new Promise<void>((resolve) => opened[0]?.on('close', resolve));
    const head = Buffer.alloc(8);
    head.writeUInt32BE(1, 0);
    head.writeUInt32BE(5, 4);
    client.send(controlFrame(FrameType.RST_STREAM, 0, head));
    await reset;
    expect(opened[1]?.closed).toBe(false);
    const gone = new Promise<void>((resolve) => connection.on('close', resolve));
    client.socket.destroy();
    await gone;
    expect(opened[1]?.closed).toBe(true);
  });
});
