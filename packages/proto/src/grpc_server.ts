import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { grpcFrame } from './grpc_frame.js';

/** A call's outcome other than OK: a gRPC status code and its message. */
export interface GrpcStatus {
  readonly code: number;
  readonly details: string;
}

/** A call ended with a status other than OK; a handler throws (or rejects with) one. */
export class GrpcStatusError extends Error implements GrpcStatus {
  override readonly name = 'GrpcStatusError';
  readonly code: number;
  readonly details: string;
  constructor(status: GrpcStatus) {
    super(status.details);
    this.code = status.code;
    this.details = status.details;
  }
}

/** A unary method: the decoded request in, the response out; a rejection with a GrpcStatus is that status, anything else UNKNOWN. */
export type UnaryHandler = (request: unknown) => Promise<unknown>;

/**
 * A streaming call (server, client or both ways), in the part of grpc-js's call API our handlers
 * use. Events: 'data' (a request message), 'end' (the client half-closed), 'cancelled' (the client
 * went away, or the connection did, before the server ended the call), and last 'close' (the call
 * is over, either way).
 */
export interface ServerStreamCall extends EventEmitter {
  /** A server-streaming method's one request (undefined for a method that streams requests). */
  readonly request: unknown;
  readonly cancelled: boolean;
  /** Sends a response message (a Buffer goes out as the method's serializer passes it); `sent` once it is handed to the connection. */
  write(message: unknown, sent?: () => void): void;
  /** Ends the call OK after the messages written so far. */
  end(): void;
  /** Ends the call with `status` after the messages written so far. */
  fail(status: GrpcStatus): void;
}

export type StreamHandler = (call: ServerStreamCall) => void;

export type ServiceImplementation = Record<string, UnaryHandler | StreamHandler>;

export interface GrpcServerOptions {
  /** Larger request messages are refused RESOURCE_EXHAUSTED, as grpc-go's server does (default 4 MiB). */
  readonly maxReceiveMessageLength?: number;
}

const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity,deflate,gzip' };

interface Method {
  readonly definition: grpc.MethodDefinition<unknown, unknown>;
  readonly handler: UnaryHandler | StreamHandler;
  readonly unary: boolean;
}

/**
 * A gRPC server on node:http2 directly, for the store's client port: every request the apiserver
 * sends the store is a unary call, and grpc-js's server call stack (interceptors, metadata objects,
 * a Duplex per call, deadline timers) cost the store about as much CPU per call as the call's own
 * work (`@k8ts/etcdserver`'s README, Speed). The methods, their paths and (de)serializers come from
 * grpc-js service definitions, as proto-loader makes them.
 *
 * As grpc-go (etcd's server), which the texts follow: an unknown method is UNIMPLEMENTED, a request
 * message over the limit RESOURCE_EXHAUSTED, gzip and deflate request messages are accepted. No
 * server-side deadline: a client whose deadline passes resets the stream (grpc-go, grpc-js and our
 * UnaryChannel all do), which ends the call here as a cancel.
 */
export class GrpcServer {
  private readonly methods = new Map<string, Method>();
  private readonly services = new Set<string>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly http2Server: http2.Http2Server;
  private readonly maxReceiveMessageLength: number;

  constructor(options: GrpcServerOptions = {}) {
    this.maxReceiveMessageLength = options.maxReceiveMessageLength ?? 4 * 1024 * 1024;
    // grpc-js lifts node's session memory cap too: at it, node refuses new streams on a busy session.
    this.http2Server = http2.createServer({ maxSessionMemory: Number.MAX_SAFE_INTEGER, maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER });
    this.http2Server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', () => undefined);
    });
    this.http2Server.on('sessionError', () => undefined);
    this.http2Server.on('stream', (stream, headers) => this.onStream(stream, headers));
  }

  addService(service: grpc.ServiceDefinition, implementation: ServiceImplementation): void {
    for (const [name, definition] of Object.entries(service) as [string, grpc.MethodDefinition<unknown, unknown> & { originalName?: string }][]) {
      this.services.add(definition.path.split('/')[1] ?? '');
      const handler = implementation[name] ?? (definition.originalName === undefined ? undefined : implementation[definition.originalName]);
      if (handler === undefined) continue;
      this.methods.set(definition.path, { definition, handler, unary: !definition.requestStream && !definition.responseStream });
    }
  }

  /** Serves an HTTP/2 connection whose first bytes (the preface) are still to be read from `socket`. */
  acceptConnection(socket: Socket): void {
    this.http2Server.emit('connection', socket);
  }

  /** Drops every connection; calls in flight end as cancelled. */
  close(): void {
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const contentType = headers['content-type'];
    if (headers[':method'] !== 'POST' || typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      respondOnce(stream, { ':status': 415 }, true);
      return;
    }
    const path = headers[':path'] ?? '';
    const method = this.methods.get(path);
    if (method === undefined) {
      sendStatus(stream, { code: grpc.status.UNIMPLEMENTED, details: unknownMethodText(path, this.services) });
      return;
    }
    const encoding = headers['grpc-encoding'];
    const reader = new FrameReader(this.maxReceiveMessageLength, typeof encoding === 'string' ? encoding : 'identity');
    if (method.unary) this.serveUnary(stream, method, reader);
    else new StreamCall(stream, method, reader).start();
  }

  private serveUnary(stream: http2.ServerHttp2Stream, method: Method, reader: FrameReader): void {
    let request: unknown;
    let count = 0;
    stream.on('data', (chunk: Buffer) => {
      if (stream.closed || stream.headersSent) return;
      const failure = reader.push(chunk, (bytes) => {
        count++;
        if (count === 1) request = bytes;
      });
      if (failure !== undefined) sendStatus(stream, failure);
    });
    stream.on('end', () => {
      if (stream.closed || stream.headersSent) return;
      if (count !== 1) {
        sendStatus(stream, { code: grpc.status.INTERNAL, details: count === 0 ? 'grpc: unary call received no request message' : 'grpc: unary call received more than one request message' });
        return;
      }
      let decoded: unknown;
      try {
        decoded = method.definition.requestDeserialize(request as Buffer);
      } catch (error) {
        sendStatus(stream, { code: grpc.status.INTERNAL, details: `grpc: error unmarshalling request: ${messageOf(error)}` });
        return;
      }
      let answer: Promise<unknown>;
      try {
        answer = (method.handler as UnaryHandler)(decoded);
      } catch (error) {
        answer = Promise.reject(error);
      }
      answer.then(
        (response) => {
          if (stream.closed) return;
          let frame: Buffer;
          try {
            frame = grpcFrame(method.definition.responseSerialize(response));
          } catch (error) {
            sendStatus(stream, { code: grpc.status.INTERNAL, details: `grpc: error while marshaling: ${messageOf(error)}` });
            return;
          }
          if (!respondOnce(stream, RESPONSE_HEADERS, false)) return;
          stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
          stream.end(frame);
        },
        (error: unknown) => sendStatus(stream, statusOf(error)),
      )
      // The stream went away between the checks and the answer (its session destroyed): drop it.
      .catch(() => stream.destroy());
    });
  }
}

/** A streaming call: request messages are emitted as they arrive; responses written in order. */
class StreamCall extends EventEmitter implements ServerStreamCall {
  request: unknown = undefined;
  cancelled = false;
  private ended = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly method: Method,
    private readonly reader: FrameReader,
  ) {
    super();
  }

  start(): void {
    const { stream, method } = this;
    stream.on('close', () => {
      if (!this.ended) {
        this.ended = true;
        this.cancelled = true;
        this.emit('cancelled');
      }
      this.emit('close');
    });
    if (!method.definition.requestStream) {
      // Server streaming: the handler starts once the one request message is in.
      let request: Buffer | undefined;
      stream.on('data', (chunk: Buffer) => {
        if (this.ended) return;
        const failure = this.reader.push(chunk, (bytes) => (request ??= bytes));
        if (failure !== undefined) this.fail(failure);
      });
      stream.on('end', () => {
        if (this.ended) return;
        if (request === undefined) return this.fail({ code: grpc.status.INTERNAL, details: 'grpc: server streaming call received no request message' });
        try {
          this.request = method.definition.requestDeserialize(request);
        } catch (error) {
          return this.fail({ code: grpc.status.INTERNAL, details: `grpc: error unmarshalling request: ${messageOf(error)}` });
        }
        this.run();
      });
      return;
    }
    stream.on('data', (chunk: Buffer) => {
      if (this.ended) return;
      const failure = this.reader.push(chunk, (bytes) => {
        if (this.ended) return;
        let message: unknown;
        try {
          message = method.definition.requestDeserialize(bytes);
        } catch (error) {
          this.fail({ code: grpc.status.INTERNAL, details: `grpc: failed to unmarshal the received message ${messageOf(error)}` });
          return;
        }
        this.emit('data', message);
      });
      if (failure !== undefined) this.fail(failure);
    });
    stream.on('end', () => {
      if (!this.ended) this.emit('end');
    });
    this.run();
  }

  write(message: unknown, sent?: () => void): void {
    if (this.ended || this.stream.closed) return;
    let frame: Buffer;
    try {
      frame = grpcFrame(this.method.definition.responseSerialize(message));
    } catch (error) {
      this.fail({ code: grpc.status.INTERNAL, details: `grpc: error while marshaling: ${messageOf(error)}` });
      return;
    }
    respondOnce(this.stream, RESPONSE_HEADERS, false);
    this.stream.write(frame, sent === undefined ? undefined : () => sent());
  }

  end(): void {
    this.finish({ code: grpc.status.OK, details: '' });
  }

  fail(status: GrpcStatus): void {
    this.finish(status);
  }

  private finish(status: GrpcStatus): void {
    if (this.ended) return;
    this.ended = true;
    sendStatus(this.stream, status);
  }

  private run(): void {
    try {
      (this.method.handler as StreamHandler)(this);
    } catch (error) {
      this.fail(statusOf(error));
    }
  }
}

/**
 * Splits a request body into gRPC messages: a flag byte (compressed or not), a 4-byte length, the
 * bytes. `push` hands each whole message on and answers the status that ends the call, if any.
 */
class FrameReader {
  private pending: Buffer | undefined;

  constructor(
    private readonly maxLength: number,
    private readonly encoding: string,
  ) {}

  push(chunk: Buffer, onMessage: (bytes: Buffer) => void): GrpcStatus | undefined {
    let bytes = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    while (bytes.length >= 5) {
      const length = bytes.readUInt32BE(1);
      if (length > this.maxLength) {
        return { code: grpc.status.RESOURCE_EXHAUSTED, details: `grpc: received message larger than max (${length} vs. ${this.maxLength})` };
      }
      if (bytes.length < 5 + length) break;
      const compressed = bytes[0] === 1;
      let message = bytes.subarray(5, 5 + length);
      bytes = bytes.subarray(5 + length);
      if (compressed) {
        const inflated = this.inflate(message);
        if ('code' in inflated) return inflated;
        message = inflated;
        if (message.length > this.maxLength) {
          return { code: grpc.status.RESOURCE_EXHAUSTED, details: `grpc: received message after decompression larger than max (${message.length} vs. ${this.maxLength})` };
        }
      }
      onMessage(message);
    }
    if (bytes.length > 0) this.pending = bytes;
    return undefined;
  }

  private inflate(message: Buffer): Buffer | GrpcStatus {
    try {
      if (this.encoding === 'gzip') return gunzipSync(message, { maxOutputLength: this.maxLength + 1 });
      if (this.encoding === 'deflate') return inflateSync(message, { maxOutputLength: this.maxLength + 1 });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        return { code: grpc.status.RESOURCE_EXHAUSTED, details: `grpc: received message after decompression larger than max (vs. ${this.maxLength})` };
      }
      return { code: grpc.status.INTERNAL, details: `grpc: failed to decompress the received message: ${messageOf(error)}` };
    }
    if (this.encoding === 'identity') return { code: grpc.status.INTERNAL, details: 'grpc: compressed flag set with identity or empty encoding' };
    return { code: grpc.status.UNIMPLEMENTED, details: `grpc: Decompressor is not installed for grpc-encoding "${this.encoding}"` };
  }
}

/** Sends the response headers unless they went out already; false when the stream is gone. */
function respondOnce(stream: http2.ServerHttp2Stream, headers: http2.OutgoingHttpHeaders, endStream: boolean): boolean {
  if (stream.closed || stream.destroyed) return false;
  if (!stream.headersSent) stream.respond(headers, { endStream, waitForTrailers: !endStream });
  return true;
}

/**
 * Ends the call with `status`: in the trailers after the data sent, or as a trailers-only answer
 * when nothing was sent yet.
 */
function sendStatus(stream: http2.ServerHttp2Stream, status: GrpcStatus): void {
  if (stream.closed || stream.destroyed || stream.writableEnded) return;
  const trailers = { 'grpc-status': String(status.code), 'grpc-message': encodeGrpcMessage(status.details) };
  if (!stream.headersSent) {
    stream.respond({ ...RESPONSE_HEADERS, ...trailers }, { endStream: true });
    return;
  }
  stream.once('wantTrailers', () => stream.sendTrailers(trailers));
  stream.end();
}

/** grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself (gRPC over HTTP/2). */
function encodeGrpcMessage(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]/gu, (character) => {
    try {
      return encodeURIComponent(character);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: U+FFFD, as a UTF-8 encoder writes it
    }
  });
}

function statusOf(error: unknown): GrpcStatus {
  if (typeof error === 'object' && error !== null && typeof (error as GrpcStatus).code === 'number' && typeof (error as GrpcStatus).details === 'string') {
    return { code: (error as GrpcStatus).code, details: (error as GrpcStatus).details };
  }
  return { code: grpc.status.UNKNOWN, details: messageOf(error) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** grpc-go's texts: "unknown service S" for a service the server lacks, else "unknown method M for service S". */
function unknownMethodText(path: string, services: ReadonlySet<string>): string {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (match === null) return `malformed method name: "${path}"`;
  const [, service = '', method = ''] = match;
  return services.has(service) ? `unknown method ${method} for service ${service}` : `unknown service ${service}`;
}
