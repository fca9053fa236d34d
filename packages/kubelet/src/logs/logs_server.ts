/**
 * The node side of `kubectl logs`: answers the apiserver's log requests on `k8ts.node.<node>.logs`
 * over NATS, per the protocol of packages/apiserver/src/pod_logs.ts (log bytes, then a message with
 * header `K8ts-Status: end`; or `K8ts-Status: error` with upstream's message; a follow stops when
 * anything arrives on the request's `cancel` subject).
 *
 * The promise:
 * - The file is chosen as the kubelet does (container_log_file.ts) from the pod's status when
 *   `podStatus` is given, from the files alone otherwise.
 * - Back-pressure: a chunk is read from disk only after the previous one reached the NATS server
 *   (a flush), so a slow network never grows this process's memory; at most `maxStreams` requests
 *   are served at once, the others get an error at once.
 * - A request that can be served is answered at once with an empty message (the apiserver waits 5 s
 *   for a first answer; a quiet container's follow has nothing else to send).
 * - `stop()` ends every stream (with the end marker) and resolves when they have finished.
 */
import { headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { PodStatus } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { parseRfc3339Nano } from './cri_log_format.js';
import { readCriLog } from './cri_log_reader.js';
import { LogRequestError, chooseLogFile, containerStatusOf, type LogLocation } from './container_log_file.js';

export const LOGS_SUBJECT = (node: string): string => `k8ts.node.${node}.logs`;
const STATUS_HEADER = 'K8ts-Status';

/** The request as the apiserver sends it (pod_logs.ts's LogRequest, plus the cancel subject). */
interface WireLogRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly follow?: boolean;
  readonly previous?: boolean;
  readonly timestamps?: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  readonly sinceTime?: string;
  readonly limitBytes?: number;
  readonly cancel?: string;
}

export interface LogsServerOptions {
  readonly nats: NatsConnection;
  readonly nodeName: string;
  /** The kubelet's `locate`: where the pod's logs are, undefined when the pod is not on this node. */
  readonly locate: (namespace: string, pod: string, container?: string) => LogLocation | undefined;
  /** The pod's status as the kubelet computed it; without it the log files alone decide. */
  readonly podStatus?: (namespace: string, pod: string) => PodStatus | undefined;
  readonly logger: Logger;
  /** Requests served at once (default 64). */
  readonly maxStreams?: number;
  /** For follows: how often the file is looked at when no change is reported (default 1 s). */
  readonly recheckMs?: number;
}

export class LogsServer {
  private subscription: Subscription | undefined;
  private readonly streams = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: LogsServerOptions) {}

  start(): void {
    if (this.subscription !== undefined) return;
    this.subscription = this.options.nats.subscribe(LOGS_SUBJECT(this.options.nodeName), {
      callback: (error, message) => {
        if (error !== null) {
          this.options.logger.warn({ err: error }, 'logs subscription failed');
          return;
        }
        this.accept(message);
      },
    });
  }

  /** Streams in progress (for metrics and tests). */
  get activeStreams(): number {
    return this.streams.size;
  }

  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.stopping.abort();
    await Promise.allSettled([...this.streams]);
  }

  private accept(message: Msg): void {
    if (this.stopping.signal.aborted) return;
    if (this.streams.size >= (this.options.maxStreams ?? 64)) {
      this.answerError(message, `too many log streams on node "${this.options.nodeName}" (${this.streams.size}); try again`);
      return;
    }
    const served = this.serve(message).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'log stream failed');
      this.answerError(message, error instanceof Error ? error.message : String(error));
    });
    this.streams.add(served);
    void served.finally(() => this.streams.delete(served));
  }

  private async serve(message: Msg): Promise<void> {
    const request = parseRequest(message.data);
    const { namespace, pod, container } = request;
    const { locate, podStatus } = this.options;
    const location = locate(namespace, pod, container);
    if (location === undefined) throw new LogRequestError(`pod "${pod}" cannot be found - no logs available`);
    const chosen = chooseLogFile({
      pod,
      container,
      previous: request.previous === true,
      logDirectory: location.logDirectory,
      status: podStatus?.(namespace, pod),
      knowsStatus: podStatus !== undefined,
    });
    const cancelled = new AbortController();
    const abort = (): void => cancelled.abort();
    this.stopping.signal.addEventListener('abort', abort, { once: true });
    const cancelSubscription = request.cancel === undefined ? undefined : this.options.nats.subscribe(request.cancel, { max: 1, callback: abort });
    const stillWriting = (): boolean => {
      if (cancelled.signal.aborted || locate(namespace, pod, container) === undefined) return false;
      if (podStatus === undefined) return true;
      const status = containerStatusOf(podStatus(namespace, pod), container);
      return status?.state?.running !== undefined && (status.restartCount ?? 0) === chosen.restartCount;
    };
    try {
      // An empty first answer at once: the apiserver gives up on a node that says nothing for 5 s,
      // and a follow of a quiet container may have nothing to say for longer.
      message.respond(new Uint8Array(0));
      const chunks = readCriLog(chosen.path, {
        ...(request.tailLines === undefined ? {} : { tailLines: request.tailLines }),
        ...sinceOf(request),
        timestamps: request.timestamps === true,
        ...(request.limitBytes === undefined ? {} : { limitBytes: request.limitBytes }),
        follow: request.follow === true && chosen.running,
        stillWriting,
        signal: cancelled.signal,
        ...(this.options.recheckMs === undefined ? {} : { recheckMs: this.options.recheckMs }),
      });
      for await (const chunk of chunks) {
        if (cancelled.signal.aborted) break;
        message.respond(chunk);
        // Read on only once the server has what was sent: back-pressure without a queue.
        await this.options.nats.flush();
      }
      const end = headers();
      end.set(STATUS_HEADER, 'end');
      message.respond(new Uint8Array(0), { headers: end });
    } finally {
      this.stopping.signal.removeEventListener('abort', abort);
      cancelSubscription?.unsubscribe();
    }
  }

  private answerError(message: Msg, text: string): void {
    const error = headers();
    error.set(STATUS_HEADER, 'error');
    try {
      message.respond(new TextEncoder().encode(text), { headers: error });
    } catch (failure) {
      this.options.logger.warn({ err: failure }, 'could not answer a log request');
    }
  }
}

function parseRequest(data: Uint8Array): WireLogRequest {
  let request: unknown;
  try {
    request = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new LogRequestError('a log request must be JSON');
  }
  const fields = request as Partial<WireLogRequest> | null;
  if (typeof fields?.namespace !== 'string' || typeof fields.pod !== 'string' || typeof fields.container !== 'string') {
    throw new LogRequestError('a log request names its namespace, pod and container');
  }
  return fields as WireLogRequest;
}

/** sinceSeconds (relative to now) or sinceTime (RFC 3339), as the kubelet turns them into one time. */
function sinceOf(request: WireLogRequest): { sinceNanos?: bigint } {
  if (request.sinceSeconds !== undefined) return { sinceNanos: BigInt(Date.now() - request.sinceSeconds * 1000) * 1_000_000n };
  if (request.sinceTime !== undefined) {
    const since = parseRfc3339Nano(request.sinceTime);
    if (since === undefined) throw new LogRequestError(`sinceTime: Invalid value: "${request.sinceTime}": not an RFC 3339 time`);
    return { sinceNanos: since };
  }
  return {};
}
