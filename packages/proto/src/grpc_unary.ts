import http2 from 'node:http2';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { grpcFrame } from './grpc_frame.js';

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

/**
 * gRPC unary calls over one HTTP/2 connection to one endpoint, with node:http2 directly: the
 * request framed as gRPC frames it, the status read from the trailers (or a trailers-only answer).
 * The apiserver's every store request and the components' every API call is a unary call, and
 * grpc-js's call stack (resolver, load balancer, retry and interceptor layers, channelz) doubled
 * what each cost the caller — in the apiserver ~0.6 ms of CPU per call against ~0.6 ms for the
 * call itself. Streams (watch) stay on grpc-js.
 *
 * The connection is opened on first use and again after it fails; a call on a broken or refused
 * connection fails UNAVAILABLE at once, so the caller can move to another endpoint.
 */
export class UnaryChannel {
  private session: http2.ClientHttp2Session | undefined;
  private inFlight = 0;

  constructor(
    private readonly authority: string,
    private readonly options: UnaryChannelOptions = {},
  ) {}

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

      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.connection().request({
          ':method': 'POST',
          ':path': method.path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
        });
      } catch (error) {
        this.session = undefined;
        fail(grpc.status.UNAVAILABLE, `connection to ${this.authority} failed: ${String(error)}`);
        return;
      }
      let settled = false;
      this.inFlight++;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        clearTimeout(timer);
        outcome();
      };
      const timer = setTimeout(() => {
        finish(() => fail(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, timeoutMs);

      const chunks: Buffer[] = [];
      let received = 0;
      let status: string | undefined;
      let message = '';
      const readStatus = (headers: http2.IncomingHttpHeaders): void => {
        const code = headers['grpc-status'];
        if (typeof code === 'string') {
          status = code;
          message = decodeGrpcMessage(headers['grpc-message']);
          metadata = grpc.Metadata.fromHttp2Headers(headers);
        }
      };
      stream.on('response', (headers) => {
        const httpStatus = headers[':status'];
        if (httpStatus !== 200) {
          finish(() => fail(grpc.status.UNKNOWN, `the server answered HTTP ${String(httpStatus)}`));
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        readStatus(headers); // a trailers-only answer (an error) carries its status here
      });
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) {
          finish(() => fail(grpc.status.RESOURCE_EXHAUSTED, `response larger than ${MAX_RESPONSE_BYTES} bytes`));
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () =>
        finish(() => {
          if (status === undefined) {
            // The connection dropped under the call (the server died, a cut network): node ends the
            // stream with an RST code and no status. UNAVAILABLE, as grpc-js says "Connection
            // dropped", so callers move to another endpoint; only a clean end without one is UNKNOWN.
            if ((stream.rstCode ?? http2.constants.NGHTTP2_NO_ERROR) !== http2.constants.NGHTTP2_NO_ERROR || stream.session?.destroyed !== false) {
              return fail(grpc.status.UNAVAILABLE, `${this.authority}: connection dropped`);
            }
            return fail(grpc.status.UNKNOWN, 'the server ended the call without a status');
          }
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
      );
      stream.on('error', (error: Error) => finish(() => fail(grpc.status.UNAVAILABLE, `${this.authority}: ${error.message}`)));
      stream.on('close', () => finish(() => fail(grpc.status.UNAVAILABLE, `${this.authority}: the stream closed before the call ended`)));
      stream.end(frame);
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  private connection(): http2.ClientHttp2Session {
    if (this.session !== undefined && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(`http://${this.authority}`, {
      // Large list responses should not stall on the 64 KiB default window.
      settings: { initialWindowSize: 4 * 1024 * 1024 },
      // Nagle off, as grpc-js has it: a request written in pieces must not wait for a delayed ACK.
      createConnection: (authority: URL) => connect({ host: authority.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(authority.port), noDelay: true }),
    });
    session.on('connect', () => session.setLocalWindowSize(16 * 1024 * 1024));
    const keepalive = this.keepalive(session);
    const forget = (): void => {
      clearInterval(keepalive);
      if (this.session === session) this.session = undefined;
    };
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    this.session = session;
    return session;
  }

  /** Pings `session` while calls are in flight; a ping not answered in time destroys it. */
  private keepalive(session: http2.ClientHttp2Session): NodeJS.Timeout {
    const timeoutMs = this.options.keepaliveTimeoutMs ?? 5_000;
    let waiting = false;
    const timer = setInterval(() => {
      if (waiting || this.inFlight === 0 || session.destroyed) return;
      waiting = true;
      const silent = setTimeout(() => session.destroy(new Error(`no answer to a keepalive ping within ${timeoutMs} ms`)), timeoutMs);
      const answered = (): void => {
        waiting = false;
        clearTimeout(silent);
      };
      // A connection still being made is given the same time to come up as a ping to be answered.
      if (session.connecting) {
        session.once('connect', answered);
        return;
      }
      try {
        if (!session.ping(answered)) answered(); // refused: too many pings outstanding (never ours alone)
      } catch {
        answered(); // the session is closing: its own end fails the calls
      }
    }, this.options.keepaliveMs ?? 10_000);
    timer.unref();
    return timer;
  }
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
