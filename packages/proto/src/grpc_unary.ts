import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { grpcFrame } from './grpc_frame.js';
import { Http2Connection } from './h2/connection.js';
import { ErrorCode } from './h2/frame.js';
import { StaticIndex, hpackIndexed, hpackLiteral, hpackLiteralIndexedName } from './h2/hpack.js';

/**
 * What a failed call reports: a gRPC status code and message, as grpc-js's ServiceError does, and
 * the metadata the server sent with the status (the apiserver's Status rides there).
 */
export interface UnaryError {
  readonly code: grpc.status;
  readonly details: string;
  readonly metadata: grpc.Metadata;
}

export interface UnaryChannelOptions {
  /**
   * While calls are in flight, a ping this often (grpc-js's keepalive_time_ms); one not answered
   * within `keepaliveTimeoutMs` drops the connection, failing its calls UNAVAILABLE. A peer that
   * went silent (paused, cut off) is thus left in seconds, not at each call's deadline.
   * Default 10 s and 5 s, the components' grpc-js setting.
   */
  readonly keepaliveMs?: number;
  readonly keepaliveTimeoutMs?: number;
}

const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** Large list responses should not stall on the 64 KiB default window. */
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;

/**
 * gRPC unary calls over one HTTP/2 connection to one endpoint, on our own HTTP/2 client
 * (`h2/connection.ts`): the request framed as gRPC frames it, its HEADERS and DATA in one write,
 * the status read from the trailers (or a trailers-only answer). The apiserver's every store
 * request and the components' every API call is a unary call: grpc-js's call stack (resolver, load
 * balancer, retry and interceptor layers, channelz) doubled what each cost the caller, and
 * node:http2 after it still cost a share of its own (an AsyncResource bound per request, nghttp2
 * behind a C++ boundary per frame). Streams (watch) stay on grpc-js.
 *
 * The connection is opened on first use and again after it fails or the server sends GOAWAY; a
 * call on a broken or refused connection fails UNAVAILABLE, so the caller can move to another
 * endpoint.
 */
export class UnaryChannel {
  private connection: Http2Connection | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingWaiting: { readonly connection: Http2Connection; readonly silent: NodeJS.Timeout } | undefined;
  private inFlight = 0;
  /** The request headers every call shares: the pseudo-headers before `:path`, the rest after it (pseudo-headers come first). */
  private readonly pseudoHeaders: Buffer;
  private readonly otherHeaders: Buffer;
  private readonly pathHeaders = new Map<string, Buffer>();

  constructor(
    private readonly authority: string,
    private readonly options: UnaryChannelOptions = {},
  ) {
    this.pseudoHeaders = Buffer.concat([hpackIndexed(StaticIndex.METHOD_POST), hpackIndexed(StaticIndex.SCHEME_HTTP), hpackLiteralIndexedName(StaticIndex.AUTHORITY, authority)]);
    this.otherHeaders = Buffer.concat([hpackLiteralIndexedName(StaticIndex.CONTENT_TYPE, 'application/grpc'), hpackLiteral('te', 'trailers')]);
  }

  call<Request, Response>(method: grpc.MethodDefinition<Request, Response>, request: Request, timeoutMs: number): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      let metadata = new grpc.Metadata();
      const fail = (code: grpc.status, details: string): void => reject({ code, details, metadata } satisfies UnaryError);
      let body: Buffer;
      try {
        body = method.requestSerialize(request);
      } catch (error) {
        fail(grpc.status.INTERNAL, `request message serialization failure: ${String(error)}`);
        return;
      }
      const frame = grpcFrame(body);
      const connection = this.open();

      let settled = false;
      this.inFlight++;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        clearTimeout(timer);
        outcome();
      };
      const chunks: Buffer[] = [];
      let received = 0;
      let status: string | undefined;
      let message = '';
      let headersSeen = false;
      const stream = connection.openStream({
        onHeaders: (headers) => {
          const fields = headersObject(headers);
          if (!headersSeen) {
            headersSeen = true;
            const httpStatus = fields[':status'];
            if (httpStatus !== '200') {
              finish(() => fail(grpc.status.UNKNOWN, `the server answered HTTP ${String(httpStatus)}`));
              stream.reset(ErrorCode.CANCEL);
              return;
            }
          }
          // The trailers, or a trailers-only answer (an error), carry the status.
          const code = fields['grpc-status'];
          if (typeof code === 'string') {
            status = code;
            message = decodeGrpcMessage(fields['grpc-message']);
            metadata = grpc.Metadata.fromHttp2Headers(fields);
          }
        },
        onData: (chunk) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) {
            finish(() => fail(grpc.status.RESOURCE_EXHAUSTED, `response larger than ${MAX_RESPONSE_BYTES} bytes`));
            stream.reset(ErrorCode.CANCEL);
            return;
          }
          chunks.push(Buffer.from(chunk));
        },
        onEnd: () =>
          finish(() => {
            if (status === undefined) return fail(grpc.status.UNKNOWN, 'the server ended the call without a status');
            if (status !== '0') return fail(Number(status) as grpc.status, message);
            const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
            if (bytes.length < 5 || bytes[0] !== 0 || bytes.readUInt32BE(1) !== bytes.length - 5) {
              return fail(grpc.status.INTERNAL, 'the response is not one uncompressed gRPC message');
            }
            try {
              resolve(method.responseDeserialize(bytes.subarray(5)));
            } catch (error) {
              fail(grpc.status.INTERNAL, `response message parsing failure: ${String(error)}`);
            }
          }),
        // The connection dropped under the call (the server died, a cut network, a refused
        // connection) or the server reset the stream: UNAVAILABLE, as grpc-js says "Connection
        // dropped", so callers move to another endpoint and the apiserver tries an uncertain write again.
        onReset: (code) =>
          finish(() => fail(grpc.status.UNAVAILABLE, code === undefined ? `${this.authority}: connection dropped` : `${this.authority}: the stream was reset (HTTP/2 error ${code})`)),
      });
      const timer = setTimeout(() => {
        finish(() => fail(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
        stream.reset(ErrorCode.CANCEL);
      }, timeoutMs);
      stream.request(Buffer.concat([this.pseudoHeaders, this.pathHeader(method.path), this.otherHeaders, hpackLiteral('grpc-timeout', `${Math.max(1, Math.ceil(timeoutMs))}m`)]), frame);
    });
  }

  /** As grpc-js's `close`: no new calls on the connection, and the calls in flight finish first. */
  close(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.connection?.closeWhenIdle();
    this.connection = undefined;
  }

  private pathHeader(path: string): Buffer {
    let block = this.pathHeaders.get(path);
    if (block === undefined) {
      block = hpackLiteralIndexedName(StaticIndex.PATH, path);
      this.pathHeaders.set(path, block);
    }
    return block;
  }

  private open(): Http2Connection {
    if (this.connection?.usable === true) return this.connection;
    const { hostname, port } = new URL(`http://${this.authority}`);
    // Nagle off, as grpc-js has it: a request written in pieces must not wait for a delayed ACK.
    const socket = connect({ host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port), noDelay: true });
    const connection = Http2Connection.connectClient(socket, { streamWindow: STREAM_WINDOW, connectionWindow: CONNECTION_WINDOW });
    this.connection = connection;
    socket.once('close', () => {
      if (this.connection === connection) this.connection = undefined;
      this.pingAnswered(connection);
    });
    this.keepalive();
    return connection;
  }

  /**
   * While calls are in flight, pings the connection; one not answered in time destroys it (failing
   * its calls UNAVAILABLE). A connection still being made gets the same time to come up.
   */
  private keepalive(): void {
    if (this.keepaliveTimer !== undefined) return;
    const timeoutMs = this.options.keepaliveTimeoutMs ?? 5_000;
    this.keepaliveTimer = setInterval(() => {
      const connection = this.connection;
      if (this.pingWaiting !== undefined || this.inFlight === 0 || connection === undefined) return;
      const silent = setTimeout(() => connection.destroy(), timeoutMs);
      this.pingWaiting = { connection, silent };
      connection.ping(() => this.pingAnswered(connection));
    }, this.options.keepaliveMs ?? 10_000);
    this.keepaliveTimer.unref();
  }

  /** The ping on `connection` was answered, or the connection closed (so none will be). */
  private pingAnswered(connection: Http2Connection): void {
    if (this.pingWaiting?.connection !== connection) return;
    clearTimeout(this.pingWaiting.silent);
    this.pingWaiting = undefined;
  }
}

/** A decoded header list as node's headers object (repeated names joined into arrays), for grpc-js's Metadata. */
function headersObject(headers: readonly (readonly [string, string])[]): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const seen = fields[name];
    fields[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return fields;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
function decodeGrpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
