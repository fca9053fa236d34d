import type { Socket } from 'node:net';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  FRAME_HEADER_BYTES,
  Flag,
  FrameType,
  MAX_WINDOW,
  Setting,
  frame,
  goawayFrame,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from './frame.js';
import { HpackDecoder, HpackError } from './hpack.js';

/** What a stream tells its owner. After `onReset` nothing more is delivered and nothing can be sent. */
export interface StreamListener {
  /** A header block after the one that opened the stream: a response's headers, or trailers. */
  onHeaders?(headers: [string, string][]): void;
  /** A DATA frame's payload, padding removed. */
  onData(chunk: Buffer): void;
  /** The peer half-closed the stream. */
  onEnd(): void;
  /** The peer reset the stream (`code`), or the connection went away (no code), before it ended. */
  onReset(code?: number): void;
}

/** Called for each new stream with its decoded request headers (names lower-case, as HTTP/2 sends them). */
export type StreamOpener = (stream: H2Stream, headers: ReadonlyArray<readonly [string, string]>) => StreamListener;

export interface ConnectionOptions {
  /** The receive windows offered: per stream (in the SETTINGS) and for the whole connection. */
  readonly streamWindow?: number;
  readonly connectionWindow?: number;
}

const SERVER_STREAM_WINDOW = 1 << 20;
/** Stream ids are 31 bits: a client that has used them up needs a new connection. */
const MAX_STREAM_ID = 2 ** 31 - 1;
const CONNECTION_WINDOW = 16 << 20;
/** A header block (HEADERS and its CONTINUATIONs) past this ends the connection. */
const MAX_HEADER_BLOCK_BYTES = 1 << 20;
const EMPTY = Buffer.alloc(0);
const END_STREAM = Symbol('END_STREAM');

interface Pending {
  readonly bytes: Buffer;
  offset: number;
  readonly sent: (() => void) | undefined;
}

/**
 * One HTTP/2 stream. A server answers with `respond` (a HEADERS frame), `write` (DATA, held while
 * the peer's flow-control windows are shut) and `end` (trailers, after the data written before
 * them); a client sends its request with `request`.
 */
export class H2Stream {
  headersSent = false;
  /** Nothing more can be sent or will be heard: both sides ended the stream, or it was reset. */
  closed = false;
  localEnded = false;
  remoteEnded = false;
  sendWindow: number;
  receiveWindow: number;
  receivedUnacknowledged = 0;
  readonly queue: Pending[] = [];
  /** Trailers to send once the queue is out, or `END_STREAM` alone (an empty DATA frame ends it). */
  pendingEnd: Buffer | typeof END_STREAM | undefined;
  listener: StreamListener | undefined;

  constructor(
    private readonly connection: Http2Connection,
    readonly id: number,
    sendWindow: number,
    receiveWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.receiveWindow = receiveWindow;
  }

  /** Sends the response headers (an encoded HPACK block); `endStream` makes it a trailers-only answer. */
  respond(block: Buffer, endStream: boolean): void {
    if (this.closed || this.headersSent) return;
    this.headersSent = true;
    this.connection.sendHeaders(this.id, block, endStream);
    if (endStream) this.connection.ended(this);
  }

  /** Queues `bytes` as DATA; `sent` once they are handed to the socket. */
  write(bytes: Buffer, sent?: () => void): void {
    if (this.closed || this.pendingEnd !== undefined) return;
    this.queue.push({ bytes, offset: 0, sent });
    this.connection.pump(this);
  }

  /** Ends this side of the stream with trailers (an encoded HPACK block) after the data queued. */
  end(trailers: Buffer): void {
    if (this.closed || this.pendingEnd !== undefined) return;
    this.pendingEnd = trailers;
    this.connection.pump(this);
  }

  /** A client's whole request: the headers, then `body` as DATA ending the stream (one write when the windows allow). */
  request(headers: Buffer, body: Buffer): void {
    if (this.closed || this.headersSent) return;
    this.headersSent = true;
    if (this.connection.requestAtOnce(this, headers, body)) return;
    this.connection.sendHeaders(this.id, headers, false);
    this.write(body);
    if (this.closed) return;
    this.pendingEnd = END_STREAM;
    this.connection.pump(this);
  }

  /**
   * A whole unary answer: headers, one DATA frame and trailers, in one socket write when the
   * windows and the frame size allow it (else as `respond`, `write` and `end` would send them).
   */
  answer(headers: Buffer, body: Buffer, trailers: Buffer): void {
    if (this.closed || this.headersSent) return;
    if (!this.connection.answerAtOnce(this, headers, body, trailers)) {
      this.respond(headers, false);
      this.write(body);
      this.end(trailers);
    }
  }

  /** Resets the stream (RST_STREAM with `code`); its listener hears `onReset`. */
  reset(code: number): void {
    if (this.closed) return;
    this.connection.resetStream(this, code);
  }
}

/**
 * One HTTP/2 connection (RFC 9113), either end: frames, HPACK-decoded headers, flow control both
 * ways, SETTINGS, PING, RST_STREAM and GOAWAY. A server (`serve`) reads the client's preface and
 * opens a stream for each new HEADERS; a client (`connectClient`) writes the preface and opens
 * streams with `openStream`. Written for gRPC's hot paths: node:http2 (nghttp2 behind a C++/JS
 * boundary per frame and per stream, and a server's trailers deferred to a later turn, so a unary
 * answer took two socket writes) cost more CPU per call than the call's own work
 * (`@k8ts/etcdserver`'s README, Speed). Everything written in one turn of the event loop goes out
 * in one `writev`.
 */
export class Http2Connection {
  private readonly streams = new Map<number, H2Stream>();
  private readonly decoder = new HpackDecoder();
  /** Streams with data queued behind a shut window. */
  private readonly blocked = new Set<H2Stream>();
  private readonly streamWindow: number;
  private readonly connectionWindow: number;
  private buffered: Buffer = EMPTY;
  private prefaceSeen: boolean;
  /** The highest stream id opened: by the client on a server, by us on a client. */
  private lastStreamId = 0;
  /** A client's pings awaiting their ACK, oldest first. */
  private readonly pings: (() => void)[] = [];
  private continuation: { streamId: number; flags: number; blocks: Buffer[]; size: number } | undefined;
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private receiveWindow: number;
  private receivedUnacknowledged = 0;
  private corked = false;
  private closed = false;
  /** Set by `goAway`, `closeWhenIdle` or a GOAWAY heard: called once no stream is left open. */
  private drained: (() => void) | undefined;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private constructor(
    private readonly socket: Socket,
    private readonly opener: StreamOpener | undefined,
    options: ConnectionOptions,
  ) {
    this.streamWindow = options.streamWindow ?? SERVER_STREAM_WINDOW;
    this.connectionWindow = options.connectionWindow ?? CONNECTION_WINDOW;
    this.receiveWindow = this.connectionWindow;
    this.prefaceSeen = opener === undefined;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
    if (opener === undefined) this.out(CLIENT_PREFACE);
    const settings: [number, number][] = [[Setting.INITIAL_WINDOW_SIZE, this.streamWindow]];
    if (opener === undefined) settings.push([Setting.ENABLE_PUSH, 0]);
    this.out(settingsFrame(settings));
    this.out(windowUpdateFrame(0, this.connectionWindow - DEFAULT_WINDOW));
    socket.resume();
  }

  /** Serves HTTP/2 on `socket`, whose first bytes (the client's preface) are still to be read. */
  static serve(socket: Socket, opener: StreamOpener, options: ConnectionOptions = {}): Http2Connection {
    return new Http2Connection(socket, opener, options);
  }

  /** The client end on `socket` (connected or still connecting: writes wait for it). */
  static connectClient(socket: Socket, options: ConnectionOptions = {}): Http2Connection {
    return new Http2Connection(socket, undefined, options);
  }

  /** False once the connection closed, failed, was told to go away or ran out of stream ids: open no more streams on it. */
  get usable(): boolean {
    return !this.closed && this.drained === undefined && !this.socket.destroyed && this.lastStreamId < MAX_STREAM_ID - 2;
  }

  /** A client's new stream (the next odd id); send on it with `request`. */
  openStream(listener: StreamListener): H2Stream {
    this.lastStreamId = this.lastStreamId === 0 ? 1 : this.lastStreamId + 2;
    const stream = new H2Stream(this, this.lastStreamId, this.peerInitialWindow, this.streamWindow);
    stream.listener = listener;
    this.streams.set(stream.id, stream);
    return stream;
  }

  /** Sends a PING; `answered` when its ACK comes back (never, if the connection goes first). */
  ping(answered: () => void): void {
    this.pings.push(answered);
    this.out(frame(FrameType.PING, 0, 0, Buffer.alloc(8)));
  }

  /** Drops the connection; open streams hear `onReset`. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Opens no more streams; the connection closes once the open ones are over. */
  closeWhenIdle(): void {
    this.drained ??= () => this.endSocket();
    if (this.streams.size === 0) this.drained();
  }

  private endSocket(): void {
    this.socket.end();
    this.socket.once('finish', () => this.socket.destroy());
  }

  /**
   * A graceful end: GOAWAY(NO_ERROR) tells the client to open no more streams here (ones it opens
   * anyway are refused, so it may retry them elsewhere); the streams open finish, then the
   * connection closes. Resolves when it has.
   */
  goAway(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.socket.once('close', () => resolve());
      if (this.drained === undefined) this.out(goawayFrame(this.lastStreamId, ErrorCode.NO_ERROR));
      this.closeWhenIdle();
    });
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    const bytes = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let offset = 0;
    if (!this.prefaceSeen) {
      if (bytes.length < CLIENT_PREFACE.length) {
        this.buffered = bytes;
        return;
      }
      if (!bytes.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) {
        this.socket.destroy();
        return;
      }
      this.prefaceSeen = true;
      offset = CLIENT_PREFACE.length;
    }
    while (!this.closed && bytes.length - offset >= FRAME_HEADER_BYTES) {
      const length = (bytes[offset]! << 16) | (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
      if (length > DEFAULT_MAX_FRAME_SIZE) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'frame larger than SETTINGS_MAX_FRAME_SIZE');
      if (bytes.length - offset < FRAME_HEADER_BYTES + length) break;
      const type = bytes[offset + 3]!;
      const flags = bytes[offset + 4]!;
      const streamId = bytes.readUInt32BE(offset + 5) & 0x7fffffff;
      const payload = bytes.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length);
      offset += FRAME_HEADER_BYTES + length;
      this.onFrame(type, flags, streamId, payload);
    }
    this.buffered = offset === bytes.length ? EMPTY : bytes.subarray(offset);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.continuation !== undefined && type !== FrameType.CONTINUATION) return this.fail(ErrorCode.PROTOCOL_ERROR, 'expected CONTINUATION');
    switch (type) {
      case FrameType.DATA:
        return this.onDataFrame(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeadersFrame(flags, streamId, payload);
      case FrameType.PRIORITY:
        if (streamId === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (payload.length !== 5) this.streams.get(streamId)?.reset(ErrorCode.FRAME_SIZE_ERROR);
        return;
      case FrameType.RST_STREAM:
        if (streamId === 0 || streamId > this.lastStreamId) return this.fail(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
        if (payload.length !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM of the wrong size');
        return this.onReset(streamId, payload.readUInt32BE(0));
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PUSH_PROMISE:
        return this.fail(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      case FrameType.PING:
        if (streamId !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
        if (payload.length !== 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'PING of the wrong size');
        if ((flags & Flag.ACK) === 0) this.out(frame(FrameType.PING, Flag.ACK, 0, payload));
        else this.pings.shift()?.();
        return;
      case FrameType.GOAWAY:
        if (streamId !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
        if (payload.length < 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY too short');
        return this.onGoAway(payload.readUInt32BE(0) & 0x7fffffff);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, streamId, payload);
      default:
        return; // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  private onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let start = 0;
    let end = payload.length;
    if ((flags & Flag.PADDED) !== 0) {
      if (payload.length < 1) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS too short');
      start = 1;
      end -= payload[0]!;
    }
    if ((flags & Flag.PRIORITY) !== 0) start += 5;
    if (end < start) return this.fail(ErrorCode.PROTOCOL_ERROR, 'HEADERS padding past the frame');
    const block = payload.subarray(start, end);
    if ((flags & Flag.END_HEADERS) !== 0) return this.onHeaderBlock(flags, streamId, block);
    this.continuation = { streamId, flags, blocks: [block], size: block.length };
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const continuation = this.continuation;
    if (continuation === undefined || continuation.streamId !== streamId) return this.fail(ErrorCode.PROTOCOL_ERROR, 'unexpected CONTINUATION');
    continuation.blocks.push(payload);
    continuation.size += payload.length;
    if (continuation.size > MAX_HEADER_BLOCK_BYTES) return this.fail(ErrorCode.ENHANCE_YOUR_CALM, 'header block too large');
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.continuation = undefined;
    this.onHeaderBlock(continuation.flags, streamId, Buffer.concat(continuation.blocks, continuation.size));
  }

  /**
   * A client told GOAWAY: streams above `lastProcessed` never reached the server (so they may be
   * tried again elsewhere) and are reset here; the rest finish. A server ignores a client's: the
   * client opens no more streams and closes the connection when it is done.
   */
  private onGoAway(lastProcessed: number): void {
    if (this.opener !== undefined) return;
    for (const stream of [...this.streams.values()]) {
      if (stream.id <= lastProcessed) continue;
      this.close(stream);
      stream.listener?.onReset(ErrorCode.REFUSED_STREAM);
    }
    // Once the streams it took are answered, the connection is done.
    this.closeWhenIdle();
  }

  private onHeaderBlock(flags: number, streamId: number, block: Buffer): void {
    let headers: [string, string][];
    try {
      headers = this.decoder.decode(block);
    } catch (error) {
      if (error instanceof HpackError) return this.fail(ErrorCode.COMPRESSION_ERROR, error.message);
      throw error;
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const open = this.streams.get(streamId);
    if (open !== undefined) {
      if (open.remoteEnded) return open.reset(ErrorCode.STREAM_CLOSED);
      // From a client: trailers, which must end its side. From a server: the response's headers or trailers.
      if (this.opener !== undefined && !endStream) return open.reset(ErrorCode.PROTOCOL_ERROR);
      open.listener?.onHeaders?.(headers);
      if (endStream && !open.closed) this.remoteEnd(open);
      return;
    }
    if (this.opener === undefined) {
      // A client: HEADERS only come on its own streams; late ones for a stream it reset are dropped.
      if (streamId > this.lastStreamId || streamId % 2 === 0) this.fail(ErrorCode.PROTOCOL_ERROR, 'HEADERS on a stream the client did not open');
      return;
    }
    if (streamId % 2 === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'a client stream with an even id');
    if (streamId <= this.lastStreamId) {
      this.out(rstStreamFrame(streamId, ErrorCode.STREAM_CLOSED));
      return;
    }
    if (this.drained !== undefined) {
      this.out(rstStreamFrame(streamId, ErrorCode.REFUSED_STREAM));
      return;
    }
    this.lastStreamId = streamId;
    const stream = new H2Stream(this, streamId, this.peerInitialWindow, this.streamWindow);
    this.streams.set(streamId, stream);
    stream.listener = this.opener(stream, headers);
    if (endStream && !stream.closed) this.remoteEnd(stream);
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    if (streamId > this.lastStreamId) return this.fail(ErrorCode.PROTOCOL_ERROR, 'DATA on an idle stream');
    this.receiveWindow -= payload.length;
    if (this.receiveWindow < 0) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, 'connection window exceeded');
    this.receivedUnacknowledged += payload.length;
    if (this.receivedUnacknowledged >= this.connectionWindow / 2) {
      this.receiveWindow += this.receivedUnacknowledged;
      this.out(windowUpdateFrame(0, this.receivedUnacknowledged));
      this.receivedUnacknowledged = 0;
    }
    let data = payload;
    if ((flags & Flag.PADDED) !== 0) {
      if (payload.length < 1 || payload[0]! >= payload.length) return this.fail(ErrorCode.PROTOCOL_ERROR, 'DATA padding past the frame');
      data = payload.subarray(1, payload.length - payload[0]!);
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) return; // a stream the server ended or reset: late data is dropped
    if (stream.remoteEnded) return stream.reset(ErrorCode.STREAM_CLOSED);
    stream.receiveWindow -= payload.length;
    if (stream.receiveWindow < 0) return stream.reset(ErrorCode.FLOW_CONTROL_ERROR);
    if (data.length > 0) stream.listener?.onData(data);
    if (stream.closed) return;
    if ((flags & Flag.END_STREAM) !== 0) return this.remoteEnd(stream);
    stream.receivedUnacknowledged += payload.length;
    if (stream.receivedUnacknowledged >= this.streamWindow / 2) {
      stream.receiveWindow += stream.receivedUnacknowledged;
      this.out(windowUpdateFrame(streamId, stream.receivedUnacknowledged));
      stream.receivedUnacknowledged = 0;
    }
  }

  private remoteEnd(stream: H2Stream): void {
    stream.remoteEnded = true;
    // A stream both sides ended is over (a server's stays open until it answers).
    if (stream.localEnded) this.close(stream);
    stream.listener?.onEnd();
  }

  private onReset(streamId: number, code: number): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    this.close(stream);
    stream.listener?.onReset(code);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & Flag.ACK) !== 0) {
      if (payload.length !== 0) this.fail(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if (payload.length % 6 !== 0) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS of the wrong size');
    for (let offset = 0; offset < payload.length; offset += 6) {
      const id = payload.readUInt16BE(offset);
      const value = payload.readUInt32BE(offset + 2);
      if (id === Setting.ENABLE_PUSH && value > 1) return this.fail(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH not 0 or 1');
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE too large');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) {
          stream.sendWindow += delta;
          if (stream.sendWindow > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, 'a stream window past 2^31-1');
        }
      }
      if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) return this.fail(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE out of range');
        this.peerMaxFrameSize = value;
      }
      // HEADER_TABLE_SIZE: our encoder never indexes, so any size the client allows will do.
    }
    this.out(frame(FrameType.SETTINGS, Flag.ACK, 0));
    this.pumpBlocked();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE of the wrong size');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, 'connection window past 2^31-1');
      return this.pumpBlocked();
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0) return stream.reset(ErrorCode.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return stream.reset(ErrorCode.FLOW_CONTROL_ERROR);
    this.pump(stream);
  }

  private onClose(): void {
    this.closed = true;
    const open = [...this.streams.values()];
    this.streams.clear();
    this.blocked.clear();
    this.pings.length = 0;
    for (const stream of open) {
      stream.closed = true;
      stream.listener?.onReset();
    }
  }

  /** A connection error: GOAWAY with `code`, then the connection closes. */
  private fail(code: number, reason: string): void {
    if (this.closed) return;
    this.out(goawayFrame(this.lastStreamId, code, reason));
    this.closed = true;
    this.endSocket();
  }

  // ---- sending ----

  /** Writes on one turn go out together (one writev) when the turn ends. */
  private out(bytes: Buffer, done?: () => void): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(bytes, done === undefined ? undefined : (error) => error === undefined || error === null ? done() : undefined);
  }

  sendHeaders(streamId: number, block: Buffer, endStream: boolean): void {
    const endFlag = endStream ? Flag.END_STREAM : 0;
    if (block.length <= this.peerMaxFrameSize) {
      this.out(frame(FrameType.HEADERS, endFlag | Flag.END_HEADERS, streamId, block));
      return;
    }
    let offset = 0;
    while (offset < block.length) {
      const piece = block.subarray(offset, offset + this.peerMaxFrameSize);
      const last = offset + piece.length === block.length;
      const type = offset === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      this.out(frame(type, (offset === 0 ? endFlag : 0) | (last ? Flag.END_HEADERS : 0), streamId, piece));
      offset += piece.length;
    }
  }

  requestAtOnce(stream: H2Stream, headers: Buffer, body: Buffer): boolean {
    const limit = this.peerMaxFrameSize;
    if (body.length > Math.min(this.sendWindow, stream.sendWindow, limit) || headers.length > limit) return false;
    const bytes = Buffer.allocUnsafe(2 * FRAME_HEADER_BYTES + headers.length + body.length);
    writeFrameHeader(bytes, 0, headers.length, FrameType.HEADERS, Flag.END_HEADERS, stream.id);
    const offset = FRAME_HEADER_BYTES + headers.copy(bytes, FRAME_HEADER_BYTES);
    writeFrameHeader(bytes, offset, body.length, FrameType.DATA, Flag.END_STREAM, stream.id);
    body.copy(bytes, offset + FRAME_HEADER_BYTES);
    this.sendWindow -= body.length;
    stream.sendWindow -= body.length;
    this.out(bytes);
    this.ended(stream);
    return true;
  }

  answerAtOnce(stream: H2Stream, headers: Buffer, body: Buffer, trailers: Buffer): boolean {
    const limit = this.peerMaxFrameSize;
    if (body.length > Math.min(this.sendWindow, stream.sendWindow, limit) || headers.length > limit || trailers.length > limit) return false;
    const bytes = Buffer.allocUnsafe(3 * FRAME_HEADER_BYTES + headers.length + body.length + trailers.length);
    let offset = 0;
    writeFrameHeader(bytes, offset, headers.length, FrameType.HEADERS, Flag.END_HEADERS, stream.id);
    offset += FRAME_HEADER_BYTES + headers.copy(bytes, offset + FRAME_HEADER_BYTES);
    writeFrameHeader(bytes, offset, body.length, FrameType.DATA, 0, stream.id);
    offset += FRAME_HEADER_BYTES + body.copy(bytes, offset + FRAME_HEADER_BYTES);
    writeFrameHeader(bytes, offset, trailers.length, FrameType.HEADERS, Flag.END_STREAM | Flag.END_HEADERS, stream.id);
    trailers.copy(bytes, offset + FRAME_HEADER_BYTES);
    this.sendWindow -= body.length;
    stream.sendWindow -= body.length;
    stream.headersSent = true;
    this.out(bytes);
    this.ended(stream);
    return true;
  }

  /** Sends what `stream` has queued as far as the windows allow, then its trailers once the queue is empty. */
  pump(stream: H2Stream): void {
    const queue = stream.queue;
    while (queue.length > 0) {
      const pending = queue[0]!;
      const allowed = Math.min(this.sendWindow, stream.sendWindow, this.peerMaxFrameSize);
      if (allowed <= 0) {
        this.blocked.add(stream);
        return;
      }
      const length = Math.min(allowed, pending.bytes.length - pending.offset);
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      writeFrameHeader(header, 0, length, FrameType.DATA, 0, stream.id);
      this.out(header);
      const last = pending.offset + length === pending.bytes.length;
      this.out(pending.bytes.subarray(pending.offset, pending.offset + length), last ? pending.sent : undefined);
      pending.offset += length;
      this.sendWindow -= length;
      stream.sendWindow -= length;
      if (last) queue.shift();
    }
    this.blocked.delete(stream);
    const end = stream.pendingEnd;
    if (end === undefined || stream.closed || stream.localEnded) return;
    if (end === END_STREAM) this.out(frame(FrameType.DATA, Flag.END_STREAM, stream.id));
    else this.sendHeaders(stream.id, end, true);
    this.ended(stream);
  }

  private pumpBlocked(): void {
    for (const stream of [...this.blocked]) {
      if (this.sendWindow <= 0) return;
      this.pump(stream);
    }
  }

  /**
   * This side sent END_STREAM. A server is then done with the stream, and tells a client still
   * sending to stop (RST_STREAM NO_ERROR, as grpc-go does); a client waits for the answer.
   */
  ended(stream: H2Stream): void {
    stream.localEnded = true;
    if (this.opener === undefined) {
      if (stream.remoteEnded) this.close(stream);
      return;
    }
    if (!stream.remoteEnded) this.out(rstStreamFrame(stream.id, ErrorCode.NO_ERROR));
    this.close(stream);
  }

  resetStream(stream: H2Stream, code: number): void {
    this.out(rstStreamFrame(stream.id, code));
    this.close(stream);
    stream.listener?.onReset();
  }

  private close(stream: H2Stream): void {
    stream.closed = true;
    stream.queue.length = 0;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    if (this.drained !== undefined && this.streams.size === 0) this.drained();
  }
}
