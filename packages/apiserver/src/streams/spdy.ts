import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { constants as zlibConstants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

/**
 * The server's side of SPDY/3.1 as kubectl's spdystream speaks it (port-forward's fallback and its
 * WebSocket tunnel): streams opened by the client (SYN_STREAM), answered with SYN_REPLY, DATA both
 * ways with FIN half-closes, RST_STREAM, PING echoed, GOAWAY. Header blocks are a zlib stream per
 * direction primed with SPDY/3's dictionary, flushed at each frame. No flow-control windows are
 * enforced: spdystream neither sends nor honours WINDOW_UPDATE, so the transport's own backpressure
 * (TCP, WebSocket) is what bounds a stream.
 */

/** SPDY/3 (draft 3, section 2.6.10.1): length-prefixed words, then the tail. 1423 bytes, Adler-32 0xe3c6a7c2. */
const DICTIONARY_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive',
  'origin',
];
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505203 Non-Authoritative Information' +
  '204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error' +
  '501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, ' +
  'Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const SPDY_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.map((word) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(word.length);
    return Buffer.concat([length, Buffer.from(word, 'latin1')]);
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

export const FrameType = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
export const FLAG_FIN = 0x01;
export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6 } as const;
const MAX_DATA_FRAME_BYTES = 32 * 1024;

export type SpdyHeaders = Record<string, string>;

/**
 * One direction's header compression: a zlib stream primed with the SPDY dictionary, one context
 * across the connection's frames, each frame's block flushed on its own (Z_SYNC_FLUSH). Calls must
 * not overlap (the connection handles frames one at a time).
 */
export class HeaderCodec {
  private readonly deflater = createDeflate({ dictionary: SPDY_DICTIONARY });
  private readonly inflater = createInflate({ dictionary: SPDY_DICTIONARY });

  async encode(headers: SpdyHeaders): Promise<Buffer> {
    const parts: Buffer[] = [u32(Object.keys(headers).length)];
    for (const [name, value] of Object.entries(headers)) {
      const n = Buffer.from(name.toLowerCase(), 'utf8');
      const v = Buffer.from(value, 'utf8');
      parts.push(u32(n.length), n, u32(v.length), v);
    }
    return flushThrough(this.deflater, Buffer.concat(parts));
  }

  /** Decodes a header block; a name with several values (NUL-separated) keeps the first. */
  async decode(block: Buffer): Promise<SpdyHeaders> {
    const raw = await flushThrough(this.inflater, block);
    const headers: SpdyHeaders = {};
    let offset = 0;
    const take = (): Buffer => {
      const length = raw.readUInt32BE(offset);
      const value = raw.subarray(offset + 4, offset + 4 + length);
      if (value.length !== length) throw new Error('truncated SPDY header block');
      offset += 4 + length;
      return value;
    };
    const count = raw.readUInt32BE(0);
    offset = 4;
    for (let i = 0; i < count; i++) {
      const name = take().toString('utf8').toLowerCase();
      headers[name] = take().toString('utf8').split('\0')[0] ?? '';
    }
    return headers;
  }
}

/** Writes `input` through a zlib stream and returns what it gives out up to a sync flush. */
function flushThrough(stream: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => reject(error);
    stream.once('error', failed);
    stream.write(input);
    // zlib pushes a chunk's output before it calls the chunk's callback: after the flush, it is all buffered.
    stream.flush(zlibConstants.Z_SYNC_FLUSH, () => {
      stream.off('error', failed);
      const chunks: Buffer[] = [];
      for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) chunks.push(chunk);
      resolve(Buffer.concat(chunks));
    });
  });
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, flags: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

/** A parsed frame: control frames by type, data frames by stream. */
export type Frame =
  | { readonly kind: 'control'; readonly type: number; readonly flags: number; readonly payload: Buffer }
  | { readonly kind: 'data'; readonly streamId: number; readonly flags: number; readonly payload: Buffer };

/** Splits a byte stream into SPDY frames. */
export class FrameReader {
  private buffered = Buffer.alloc(0);

  push(chunk: Uint8Array): Frame[] {
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
    const frames: Frame[] = [];
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUInt32BE(4) & 0xffffff;
      if (this.buffered.length < 8 + length) break;
      const first = this.buffered.readUInt32BE(0);
      const flags = this.buffered[4] as number;
      const payload = this.buffered.subarray(8, 8 + length);
      this.buffered = this.buffered.subarray(8 + length);
      if (first & 0x80000000) frames.push({ kind: 'control', type: first & 0xffff, flags, payload });
      else frames.push({ kind: 'data', streamId: first & 0x7fffffff, flags, payload });
    }
    return frames;
  }
}

/** A client-opened stream. Events: 'data' (Buffer), 'end' (the client's FIN), 'close' (reset or connection gone). */
export class SpdyStream extends EventEmitter {
  private localFin = false;
  remoteFin = false;
  closed = false;
  /** What to do with the client's bytes: a returned promise pauses the connection's reading until it settles. */
  onData: (chunk: Buffer) => Promise<void> | void = () => undefined;

  constructor(
    readonly id: number,
    readonly headers: SpdyHeaders,
    private readonly connection: SpdyConnection,
  ) {
    super();
  }

  /** Writes bytes; resolves once the transport took them. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.localFin || this.closed) return;
    for (let offset = 0; offset < chunk.length; offset += MAX_DATA_FRAME_BYTES) {
      await this.connection.send(dataFrame(this.id, 0, chunk.subarray(offset, offset + MAX_DATA_FRAME_BYTES)));
    }
  }

  /** Half-closes our side (DATA with FIN). */
  end(): void {
    if (this.localFin || this.closed) return;
    this.localFin = true;
    void this.connection.send(dataFrame(this.id, FLAG_FIN, new Uint8Array(0))).catch(() => undefined);
    this.maybeDone();
  }

  reset(status: number = RstStatus.CANCEL): void {
    if (this.closed) return;
    const payload = Buffer.concat([u32(this.id), u32(status)]);
    void this.connection.send(controlFrame(FrameType.RST_STREAM, 0, payload)).catch(() => undefined);
    this.gone();
  }

  /** @internal */
  remoteEnded(): void {
    if (this.remoteFin) return;
    this.remoteFin = true;
    this.emit('end');
    this.maybeDone();
  }

  /** @internal */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.forget(this.id);
    this.emit('close');
  }

  private maybeDone(): void {
    if (this.localFin && this.remoteFin) this.gone();
  }
}

/**
 * The server's side of a SPDY connection over a byte transport (an upgraded socket, or a WebSocket
 * as a stream). Emits 'stream' for each stream the client opens (already answered with SYN_REPLY)
 * and 'close' once the transport is gone.
 */
export class SpdyConnection extends EventEmitter {
  private readonly reader = new FrameReader();
  private readonly codec = new HeaderCodec();
  private readonly streams = new Map<number, SpdyStream>();
  private closed = false;
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => this.received(chunk));
    transport.on('close', () => this.shutdown());
    transport.on('end', () => this.shutdown());
    transport.on('error', () => this.shutdown());
  }

  send(bytes: Buffer): Promise<void> {
    if (this.closed || this.transport.destroyed) return Promise.resolve();
    return new Promise((resolve, reject) => this.transport.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** Sends GOAWAY and closes the transport. */
  close(): void {
    if (this.closed) return;
    const payload = Buffer.concat([u32(0), u32(0)]);
    this.transport.end(controlFrame(FrameType.GOAWAY, 0, payload));
    this.shutdown();
  }

  private received(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch {
      return this.fail();
    }
    // Frames are handled in order; a stream's consumer that is busy pauses the transport.
    for (const frame of frames) {
      this.reading = this.reading.then(() => this.handle(frame)).catch(() => this.fail());
    }
    this.transport.pause();
    const reading = this.reading;
    void reading.then(() => {
      if (!this.closed && this.reading === reading) this.transport.resume();
    });
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.closed) return;
    if (frame.kind === 'data') {
      const stream = this.streams.get(frame.streamId);
      if (stream === undefined) return;
      if (frame.payload.length > 0) await stream.onData(frame.payload);
      if (frame.flags & FLAG_FIN) stream.remoteEnded();
      return;
    }
    const payload = frame.payload;
    switch (frame.type) {
      case FrameType.SYN_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.codec.decode(payload.subarray(10));
        const stream = new SpdyStream(id, headers, this);
        this.streams.set(id, stream);
        const reply = Buffer.concat([u32(id), await this.codec.encode({})]);
        await this.send(controlFrame(FrameType.SYN_REPLY, 0, reply));
        this.emit('stream', stream);
        if (frame.flags & FLAG_FIN) stream.remoteEnded();
        return;
      }
      case FrameType.RST_STREAM:
        this.streams.get(payload.readUInt32BE(0) & 0x7fffffff)?.gone();
        return;
      case FrameType.PING:
        await this.send(controlFrame(FrameType.PING, 0, Buffer.from(payload)));
        return;
      case FrameType.GOAWAY:
        return this.close();
      case FrameType.HEADERS:
        await this.codec.decode(payload.subarray(4)); // keeps the zlib context in step
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE: nothing to do (see above)
    }
  }

  private fail(): void {
    this.transport.destroy();
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.gone();
    this.emit('close');
  }
}
