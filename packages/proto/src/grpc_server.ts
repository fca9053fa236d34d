import type { Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { grpcFrame } from './grpc_frame.js';
import { StaticIndex, hpackIndexed, hpackLiteral, hpackLiteralIndexedName } from './h2/hpack.js';
import { Http2Connection, type H2Stream, type StreamListener } from './h2/connection.js';

/** A call's outcome other than OK: a gRPC status code and its message. */
export interface GrpcStatus {
  readonly code: number;
  readonly details: string;
  /** Sent with the status in the trailers (the apiserver's Status rides there). */
  readonly metadata?: grpc.Metadata;
}

/** A call ended with a status other than OK; a handler throws (or rejects with) one. */
export class GrpcStatusError extends Error implements GrpcStatus {
  override readonly name = 'GrpcStatusError';
  readonly code: number;
  readonly details: string;
  readonly metadata?: grpc.Metadata;
  constructor(status: GrpcStatus) {
    super(status.details);
    this.code = status.code;
    this.details = status.details;
    if (status.metadata !== undefined) this.metadata = status.metadata;
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

/** ":status: 200", content-type and the encodings accepted: every answer's headers. */
const RESPONSE_HEADERS = Buffer.concat([
  hpackIndexed(StaticIndex.STATUS_200),
  hpackLiteralIndexedName(StaticIndex.CONTENT_TYPE, 'application/grpc'),
  hpackLiteral('grpc-accept-encoding', 'identity,deflate,gzip'),
]);
const OK_TRAILERS = trailersOf({ code: grpc.status.OK, details: '' });
const UNSUPPORTED_MEDIA_TYPE = hpackLiteralIndexedName(StaticIndex.STATUS_200, '415');

interface Method {
  readonly definition: grpc.MethodDefinition<unknown, unknown>;
  readonly handler: UnaryHandler | StreamHandler;
  readonly unary: boolean;
}

/**
 * A gRPC server on our own HTTP/2 connection (`h2/connection.ts`), for the store's client
 * port: every request the apiserver sends the store is a unary call, and grpc-js's server call
 * stack, then node:http2's, cost the store about as much CPU per call as the call's own work
 * (`@k8ts/etcdserver`'s README, Speed). The methods, their paths and (de)serializers come from
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
  private readonly connections = new Set<Http2Connection>();
  private readonly maxReceiveMessageLength: number;
  private shuttingDown = false;

  constructor(options: GrpcServerOptions = {}) {
    this.maxReceiveMessageLength = options.maxReceiveMessageLength ?? 4 * 1024 * 1024;
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
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    const connection = Http2Connection.serve(socket, (stream, headers) => this.onStream(stream, headers));
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }

  /** Drops every connection; calls in flight end as cancelled. */
  close(): void {
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
  }

  /** Tells every connection to go away (GOAWAY) and takes no new one: new calls are refused, and this resolves once the calls in flight are over. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.connections].map((connection) => connection.goAway()));
  }

  private onStream(stream: H2Stream, headers: ReadonlyArray<readonly [string, string]>): StreamListener {
    let method = '';
    let path = '';
    let contentType = '';
    let encoding = 'identity';
    for (const [name, value] of headers) {
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === 'content-type') contentType = value;
      else if (name === 'grpc-encoding') encoding = value;
    }
    if (method !== 'POST' || !contentType.startsWith('application/grpc')) {
      stream.respond(UNSUPPORTED_MEDIA_TYPE, true);
      return IGNORE;
    }
    const found = this.methods.get(path);
    if (found === undefined) {
      sendStatus(stream, { code: grpc.status.UNIMPLEMENTED, details: unknownMethodText(path, this.services) });
      return IGNORE;
    }
    const reader = new FrameReader(this.maxReceiveMessageLength, encoding);
    if (found.unary) return new UnaryCall(stream, found, reader);
    const call = new StreamCall(stream, found, reader);
    call.start();
    return call;
  }
}

/** A stream answered as soon as it opened: what the client still sends is dropped. */
const IGNORE: StreamListener = { onData: () => undefined, onEnd: () => undefined, onReset: () => undefined };

/** A unary call: the one request message in, then the handler's answer (or status) out. */
class UnaryCall implements StreamListener {
  private request: Buffer | undefined;
  private count = 0;

  constructor(
    private readonly stream: H2Stream,
    private readonly method: Method,
    private readonly reader: FrameReader,
  ) {}

  onData(chunk: Buffer): void {
    if (this.stream.closed) return;
    const failure = this.reader.push(chunk, (bytes) => {
      this.count++;
      if (this.count === 1) this.request = bytes;
    });
    if (failure !== undefined) sendStatus(this.stream, failure);
  }

  onEnd(): void {
    const { stream, method } = this;
    if (stream.closed) return;
    if (this.count !== 1) {
      sendStatus(stream, { code: grpc.status.INTERNAL, details: this.count === 0 ? 'grpc: unary call received no request message' : 'grpc: unary call received more than one request message' });
      return;
    }
    let decoded: unknown;
    try {
      decoded = method.definition.requestDeserialize(this.request as Buffer);
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
        stream.answer(RESPONSE_HEADERS, frame, OK_TRAILERS);
      },
      (error: unknown) => sendStatus(stream, statusOf(error)),
    );
  }

  onReset(): void {
    // The client cancelled (or went away): the handler's answer, when it comes, is dropped.
  }
}

/** A streaming call: request messages are emitted as they arrive; responses written in order. */
class StreamCall extends EventEmitter implements ServerStreamCall, StreamListener {
  request: unknown = undefined;
  cancelled = false;
  private ended = false;
  private firstMessage: Buffer | undefined;

  constructor(
    private readonly stream: H2Stream,
    private readonly method: Method,
    private readonly reader: FrameReader,
  ) {
    super();
  }

  /** Client streaming: the handler starts at once; server streaming: when the one request is in (`onEnd`). */
  start(): void {
    if (this.method.definition.requestStream) this.run();
  }

  onData(chunk: Buffer): void {
    if (this.ended) return;
    const failure = this.reader.push(chunk, (bytes) => {
      if (this.ended) return;
      if (!this.method.definition.requestStream) {
        this.firstMessage ??= bytes;
        return;
      }
      let message: unknown;
      try {
        message = this.method.definition.requestDeserialize(bytes);
      } catch (error) {
        this.fail({ code: grpc.status.INTERNAL, details: `grpc: failed to unmarshal the received message ${messageOf(error)}` });
        return;
      }
      this.emit('data', message);
    });
    if (failure !== undefined) this.fail(failure);
  }

  onEnd(): void {
    if (this.ended) return;
    if (this.method.definition.requestStream) {
      this.emit('end');
      return;
    }
    if (this.firstMessage === undefined) return this.fail({ code: grpc.status.INTERNAL, details: 'grpc: server streaming call received no request message' });
    try {
      this.request = this.method.definition.requestDeserialize(this.firstMessage);
    } catch (error) {
      return this.fail({ code: grpc.status.INTERNAL, details: `grpc: error unmarshalling request: ${messageOf(error)}` });
    }
    this.run();
  }

  onReset(): void {
    if (!this.ended) {
      this.ended = true;
      this.cancelled = true;
      this.emit('cancelled');
    }
    this.emit('close');
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
    this.stream.respond(RESPONSE_HEADERS, false);
    this.stream.write(frame, sent);
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
    // As a node:http2 stream's 'close': on a later tick, once the call is over.
    process.nextTick(() => this.emit('close'));
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
      // A copy: a view would keep the socket's whole read (other calls' bytes too) alive as long
      // as any value decoded from it.
      onMessage(compressed ? message : Buffer.from(message));
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

/**
 * Ends the call with `status`: in the trailers after the data sent, or as a trailers-only answer
 * when nothing was sent yet.
 */
function sendStatus(stream: H2Stream, status: GrpcStatus): void {
  if (stream.closed) return;
  const trailers = status.code === grpc.status.OK && status.details === '' && status.metadata === undefined ? OK_TRAILERS : trailersOf(status);
  if (!stream.headersSent) stream.respond(Buffer.concat([RESPONSE_HEADERS, trailers]), true);
  else stream.end(trailers);
}

function trailersOf(status: GrpcStatus): Buffer {
  const fields = [hpackLiteral('grpc-status', String(status.code)), hpackLiteral('grpc-message', encodeGrpcMessage(status.details))];
  for (const [key, values] of Object.entries(status.metadata?.toJSON() ?? {})) {
    // Binary values ("-bin" keys) go base64-encoded (gRPC over HTTP/2); keys are lower-case already.
    for (const value of values) fields.push(hpackLiteral(key, typeof value === 'string' ? value : Buffer.from(value).toString('base64')));
  }
  return Buffer.concat(fields);
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
    const { code, details, metadata } = error as GrpcStatus;
    return metadata instanceof grpc.Metadata ? { code, details, metadata } : { code, details };
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
