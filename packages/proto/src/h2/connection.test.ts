import http2 from 'node:http2';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http2Connection, type H2Stream, type StreamListener } from './connection.js';

/**
 * The server connection against node:http2's client (nghttp2: an implementation that shares nothing
 * with it) for what a well-behaved client does, and against frames written by hand for what a
 * broken one does. The bytes written by hand follow RFC 9113 and RFC 7541 directly.
 */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Opened {
  readonly stream: H2Stream;
  readonly headers: Map<string, string>;
  readonly received: Buffer[];
  ended: boolean;
  reset: boolean;
}

/** A server whose streams answer ":status 200", echo each DATA payload, and end with "x-end: 1" when the client does. */
async function echoServer(options: { echo?: boolean } = {}): Promise<{ port: number; opened: Opened[] }> {
  const opened: Opened[] = [];
  const listener = createServer((socket) => {
    const connection = Http2Connection.serve(socket, (stream, headers): StreamListener => {
      const entry: Opened = { stream, headers: new Map(headers), received: [], ended: false, reset: false };
      opened.push(entry);
      stream.respond(Buffer.from([0x88]), false);
      return {
        onData: (chunk) => {
          entry.received.push(Buffer.from(chunk));
          if (options.echo !== false) stream.write(Buffer.from(chunk));
        },
        onEnd: () => {
          entry.ended = true;
          stream.end(literal('x-end', '1'));
        },
        onReset: () => {
          entry.reset = true;
        },
      };
    });
    cleanups.push(() => connection.destroy());
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => listener.close());
  return { port: (listener.address() as AddressInfo).port, opened };
}

/** A node:http2 client session, once connected (node cancels a PING sent before). */
async function h2client(port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  cleanups.push(() => session.destroy());
  await new Promise((resolve) => session.once('connect', resolve));
  return session;
}

/** Sends `body` on a new stream and reads the answer: status, body and trailers. */
function exchange(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<{ status: number; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/echo', ...headers });
    const chunks: Buffer[] = [];
    let status = 0;
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on('response', (response) => (status = Number(response[':status'])));
    stream.on('trailers', (received) => (trailers = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks), trailers }));
    stream.on('error', reject);
    stream.end(body);
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('Http2Connection as a server with an HTTP/2 client', () => {
  it('decodes each stream\'s headers and answers streams one after another and many at once', async () => {
    const { port, opened } = await echoServer();
    const session = await h2client(port);
    for (let index = 0; index < 20; index++) {
      const answer = await exchange(session, { 'x-n': String(index), 'x-same': 'repeated value' }, Buffer.from(`body ${index}`));
      expect(answer).toMatchObject({ status: 200, body: Buffer.from(`body ${index}`), trailers: { 'x-end': '1' } });
    }
    const many = await Promise.all(Array.from({ length: 100 }, (_, index) => exchange(session, { 'x-n': `at once ${index}` }, Buffer.from(`many ${index}`))));
    many.forEach((answer, index) => expect(answer.body.toString()).toBe(`many ${index}`));
    expect(opened).toHaveLength(120);
    expect(opened[7]?.headers.get('x-n')).toBe('7');
    expect(opened[7]?.headers.get('x-same')).toBe('repeated value');
    expect(opened[7]?.headers.get(':path')).toBe('/echo');
    expect(opened[119]?.headers.get('x-n')).toBe('at once 99');
  });

  it('takes a body larger than every window it offers, and sends one larger than the client\'s', async () => {
    const { port, opened } = await echoServer();
    const session = await h2client(port);
    const body = Buffer.alloc(5 * 1024 * 1024);
    for (let index = 0; index < body.length; index++) body[index] = (index * 7) & 0xff;
    const answer = await exchange(session, {}, body);
    expect(Buffer.concat(opened[0]?.received ?? []).equals(body)).toBe(true);
    expect(answer.body.equals(body)).toBe(true);
  });

  it("holds data the client's window cannot take, and says 'sent' only as it goes out", async () => {
    const { port, opened } = await echoServer({ echo: false });
    const session = await h2client(port);
    const stream = session.request({ ':method': 'POST', ':path': '/hold' });
    stream.pause(); // node withholds the stream's WINDOW_UPDATEs while it is not read
    await until(() => opened.length === 1);
    const server = opened[0] as Opened;
    const chunk = 16 * 1024;
    let sent = 0;
    for (let index = 0; index < 8; index++) server.stream.write(Buffer.alloc(chunk, index), () => sent++);
    // The default window is 65,535 bytes: three chunks whole, the fourth all but one byte.
    await until(() => sent === 3);
    await new Promise((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve(undefined))));
    await new Promise((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve(undefined))));
    expect(sent).toBe(3);
    const received: Buffer[] = [];
    stream.on('data', (data: Buffer) => received.push(data));
    stream.resume();
    await until(() => sent === 8 && Buffer.concat(received).length === 8 * chunk);
    const all = Buffer.concat(received);
    for (let index = 0; index < 8; index++) expect(all[index * chunk]).toBe(index);
  });

  it('answers PINGs', async () => {
    const { port } = await echoServer();
    const session = await h2client(port);
    const payload = Buffer.from('12345678');
    const echoed = await new Promise<Buffer>((resolve, reject) => session.ping(payload, (error, _duration, back) => (error ? reject(error) : resolve(back))));
    expect(echoed.equals(payload)).toBe(true);
  });
});

// ---- frames written by hand ----

function frameBytes(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK literal field without indexing, new name, no Huffman (RFC 7541 §6.2.2); names and values under 127 bytes. */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
}

const REQUEST_BLOCK = Buffer.concat([
  Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table)
  literal(':path', '/raw'),
  literal(':authority', 'localhost'),
]);

interface RawFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** A client of raw bytes: the preface and an empty SETTINGS sent, every frame the server sends parsed. */
async function rawClient(port: number, preface = true): Promise<{ socket: Socket; frames: RawFrame[]; closed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  cleanups.push(() => socket.destroy());
  const frames: RawFrame[] = [];
  let closed = false;
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 9 && buffered.length >= 9 + buffered.readUIntBE(0, 3)) {
      const length = buffered.readUIntBE(0, 3);
      frames.push({ type: buffered[3]!, flags: buffered[4]!, streamId: buffered.readUInt32BE(5) & 0x7fffffff, payload: buffered.subarray(9, 9 + length) });
      buffered = buffered.subarray(9 + length);
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  if (preface) socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frameBytes(4, 0, 0)]));
  return { socket, frames, closed: () => closed };
}

const GOAWAY = 7;
const RST_STREAM = 3;

describe('Http2Connection as a server with frames written by hand', () => {
  it('opens with its SETTINGS and a connection WINDOW_UPDATE, and acknowledges the client\'s SETTINGS', async () => {
    const { port } = await echoServer();
    const { frames } = await rawClient(port);
    await until(() => frames.some((frame) => frame.type === 4 && frame.flags === 1));
    const settings = frames.find((frame) => frame.type === 4 && frame.flags === 0) as RawFrame;
    expect(settings.payload.readUInt16BE(0)).toBe(4); // SETTINGS_INITIAL_WINDOW_SIZE
    expect(settings.payload.readUInt32BE(2)).toBe(1 << 20);
    const windowUpdate = frames.find((frame) => frame.type === 8) as RawFrame;
    expect(windowUpdate.streamId).toBe(0);
    expect(windowUpdate.payload.readUInt32BE(0) + 65_535).toBe(16 << 20);
  });

  it('reads a padded HEADERS continued in CONTINUATION frames, and padded DATA', async () => {
    const { port, opened } = await echoServer();
    const { socket, frames } = await rawClient(port);
    const block = Buffer.concat([REQUEST_BLOCK, literal('x-long', 'v'.repeat(100))]);
    const padding = 3;
    socket.write(frameBytes(1, 0x8 /* PADDED */, 1, Buffer.concat([Buffer.from([padding]), block.subarray(0, 10), Buffer.alloc(padding)])));
    socket.write(frameBytes(9, 0, 1, block.subarray(10, 50)));
    socket.write(frameBytes(9, 0x4 /* END_HEADERS */, 1, block.subarray(50)));
    socket.write(frameBytes(0, 0x8 | 0x1 /* PADDED, END_STREAM */, 1, Buffer.concat([Buffer.from([5]), Buffer.from('hello'), Buffer.alloc(5)])));
    await until(() => opened[0]?.ended === true);
    expect(opened[0]?.headers.get(':path')).toBe('/raw');
    expect(opened[0]?.headers.get('x-long')).toBe('v'.repeat(100));
    expect(Buffer.concat(opened[0]?.received ?? []).toString()).toBe('hello');
    await until(() => frames.some((frame) => frame.type === 1 && (frame.flags & 0x1) !== 0));
    const data = frames.find((frame) => frame.type === 0 && frame.streamId === 1) as RawFrame;
    expect(data.payload.toString()).toBe('hello');
  });

  const connectionErrors: [string, (socket: Socket) => void, number][] = [
    ['a frame over 16,384 bytes', (socket) => socket.write(frameBytes(0, 0, 1, Buffer.alloc(16_385))), 0x6],
    ['DATA on stream 0', (socket) => socket.write(frameBytes(0, 0, 0, Buffer.from('x'))), 0x1],
    ['DATA on a stream never opened', (socket) => socket.write(frameBytes(0, 0, 5, Buffer.from('x'))), 0x1],
    ['HEADERS with index 0', (socket) => socket.write(frameBytes(1, 0x4, 1, Buffer.from([0x80]))), 0x9],
    ['HEADERS on an even stream', (socket) => socket.write(frameBytes(1, 0x4, 2, REQUEST_BLOCK)), 0x1],
    ['a PUSH_PROMISE', (socket) => socket.write(frameBytes(5, 0x4, 1, Buffer.alloc(4))), 0x1],
    ['CONTINUATION without HEADERS', (socket) => socket.write(frameBytes(9, 0x4, 1, REQUEST_BLOCK)), 0x1],
    ['another frame between HEADERS and its CONTINUATION', (socket) => socket.write(Buffer.concat([frameBytes(1, 0, 1, REQUEST_BLOCK), frameBytes(6, 0, 0, Buffer.alloc(8))])), 0x1],
    ['SETTINGS of 5 bytes', (socket) => socket.write(frameBytes(4, 0, 0, Buffer.alloc(5))), 0x6],
    ['SETTINGS_INITIAL_WINDOW_SIZE past 2^31-1', (socket) => socket.write(frameBytes(4, 0, 0, Buffer.from([0, 4, 0x80, 0, 0, 0]))), 0x3],
    ['a connection window past 2^31-1', (socket) => socket.write(frameBytes(8, 0, 0, Buffer.from([0x7f, 0xff, 0xff, 0xff]))), 0x3],
    ['a PING of 7 bytes', (socket) => socket.write(frameBytes(6, 0, 0, Buffer.alloc(7))), 0x6],
  ];

  it.each(connectionErrors)('ends the connection with GOAWAY on %s', async (_name, send, code) => {
    const { port } = await echoServer();
    const { socket, frames, closed } = await rawClient(port);
    send(socket);
    await until(() => frames.some((frame) => frame.type === GOAWAY) && closed());
    const goaway = frames.find((frame) => frame.type === GOAWAY) as RawFrame;
    expect(goaway.payload.readUInt32BE(4)).toBe(code);
  });

  it('resets a stream (not the connection) on a WINDOW_UPDATE of 0 for it', async () => {
    const { port, opened } = await echoServer();
    const { socket, frames } = await rawClient(port);
    socket.write(frameBytes(1, 0x4, 1, REQUEST_BLOCK));
    await until(() => opened.length === 1);
    socket.write(frameBytes(8, 0, 1, Buffer.alloc(4)));
    await until(() => frames.some((frame) => frame.type === RST_STREAM));
    const reset = frames.find((frame) => frame.type === RST_STREAM) as RawFrame;
    expect([reset.streamId, reset.payload.readUInt32BE(0)]).toEqual([1, 0x1]);
    expect(opened[0]?.reset).toBe(true);
    // The connection still serves.
    socket.write(frameBytes(1, 0x4 | 0x1, 3, REQUEST_BLOCK));
    await until(() => opened[1]?.ended === true);
  });

  it("passes a client's RST_STREAM on to the stream, and a lost connection to every open one", async () => {
    const { port, opened } = await echoServer();
    const { socket } = await rawClient(port);
    socket.write(Buffer.concat([frameBytes(1, 0x4, 1, REQUEST_BLOCK), frameBytes(1, 0x4, 3, REQUEST_BLOCK)]));
    await until(() => opened.length === 2);
    socket.write(frameBytes(RST_STREAM, 0, 1, Buffer.from([0, 0, 0, 0x8]))); // CANCEL
    await until(() => opened[0]?.reset === true);
    expect(opened[1]?.reset).toBe(false);
    socket.destroy();
    await until(() => opened[1]?.reset === true);
  });

  it('closes a connection that does not open with the preface', async () => {
    const { port } = await echoServer();
    const { socket, closed } = await rawClient(port, false);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(closed);
  });
});

// ---- the client end, against node:http2's server ----

/** A node:http2 server that echoes each request body after ":status 200", with trailers "x-end: 1"; `hold` paths wait. */
async function nodeServer(): Promise<{ port: number; sessions: http2.ServerHttp2Session[]; held: http2.ServerHttp2Stream[] }> {
  const server = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  const held: http2.ServerHttp2Stream[] = [];
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers[':path'] === '/hold') {
      held.push(stream);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'x-path': String(headers[':path']) }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'x-end': '1' }));
      stream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const session of sessions) session.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, sessions, held };
}

interface Answer {
  headers: [string, string][][];
  body: Buffer[];
  ended: boolean;
  reset: number | 'connection' | undefined;
}

function clientOf(port: number): Http2Connection {
  const connection = Http2Connection.connectClient(connect(port, '127.0.0.1'), { streamWindow: 4 << 20 });
  cleanups.push(() => connection.destroy());
  return connection;
}

function send(connection: Http2Connection, path: string, body: Buffer): Answer {
  const answer: Answer = { headers: [], body: [], ended: false, reset: undefined };
  const stream = connection.openStream({
    onHeaders: (headers) => answer.headers.push(headers),
    onData: (chunk) => answer.body.push(Buffer.from(chunk)),
    onEnd: () => (answer.ended = true),
    onReset: (code) => (answer.reset = code ?? 'connection'),
  });
  stream.request(Buffer.concat([Buffer.from([0x83, 0x86]), literal(':path', path), literal(':authority', 'localhost')]), body);
  return answer;
}

describe('Http2Connection as a client', () => {
  it('sends requests on streams of its own and reads headers, data and trailers; 5 MiB each way', async () => {
    const { port } = await nodeServer();
    const connection = clientOf(port);
    const small = send(connection, '/small', Buffer.from('hello'));
    const body = Buffer.alloc(5 * 1024 * 1024);
    for (let index = 0; index < body.length; index++) body[index] = (index * 13) & 0xff;
    const large = send(connection, '/large', body);
    await until(() => small.ended && large.ended);
    expect(small.headers[0]).toEqual(expect.arrayContaining([[':status', '200'], ['x-path', '/small']]));
    expect(small.headers[1]).toEqual([['x-end', '1']]);
    expect(Buffer.concat(small.body).toString()).toBe('hello');
    expect(Buffer.concat(large.body).equals(body)).toBe(true);
    expect(connection.usable).toBe(true);
  });

  it('hears PING answers', async () => {
    const { port } = await nodeServer();
    const connection = clientOf(port);
    let answered = 0;
    connection.ping(() => answered++);
    connection.ping(() => answered++);
    await until(() => answered === 2);
  });

  it('on GOAWAY, resets the streams the server did not take (REFUSED_STREAM) and is no longer usable', async () => {
    const { port, sessions, held } = await nodeServer();
    const connection = clientOf(port);
    const first = send(connection, '/hold', Buffer.from('a'));
    const second = send(connection, '/hold', Buffer.from('b'));
    await until(() => held.length === 2);
    sessions[0]?.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
    await until(() => second.reset !== undefined);
    expect(second.reset).toBe(0x7);
    expect(first.reset).toBeUndefined();
    expect(connection.usable).toBe(false);
    held[0]?.respond({ ':status': 200 }, { endStream: true });
    await until(() => first.ended);
  });

  it('tells every open stream when the connection is lost', async () => {
    const { port, sessions, held } = await nodeServer();
    const connection = clientOf(port);
    const waiting = send(connection, '/hold', Buffer.from('a'));
    await until(() => held.length === 1);
    sessions[0]?.destroy();
    await until(() => waiting.reset !== undefined);
    expect(waiting.reset).toBe('connection');
  });
});
