import * as grpc from '@grpc/grpc-js';
import { loadApiService, UnaryChannel, type ApiWatchEvent } from '@k8ts/proto';
import type { Logger } from 'pino';
import { realClock, sleep, type Clock } from '@k8ts/base';
import { isTransportFailure, toApiError } from './errors.js';
import { BucketRateLimiter } from './rate_limiter.js';
import { ResourceClient, type KubeObject } from './resource_client.js';
import type { ApiTransport, OpenedStream } from './transport.js';

export type { ApiTransport, OpenedStream } from './transport.js';

export interface ApiClientOptions {
  /** The API servers' gRPC addresses (host:port). Calls go to one at a time, the next when it fails. */
  readonly addresses: readonly string[];
  readonly logger?: Logger;
  /** Deadline of each unary call (default 30 s). */
  readonly callTimeoutMs?: number;
  /** fieldManager of writes that name none (client-go uses the program's name). */
  readonly fieldManager?: string;
  /**
   * Client-side throttling, client-go's QPS and Burst (kube-controller-manager's --kube-api-qps 20,
   * --kube-api-burst 30): unary calls beyond the rate wait their turn (watches are long-lived and not throttled). Unset: unthrottled.
   */
  readonly qps?: number;
  readonly burst?: number;
  readonly clock?: Clock;
}

// A silent API server (paused, cut off) is left after at most 15 s, and the next address tried.
const KEEPALIVE_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 5_000;

/** The watch streams' grpc-js channel (unary calls go over a UnaryChannel, with the same keepalive). */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // An API server back from a restart should be used again within a second, not grpc's 1 s..120 s.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.keepalive_time_ms': KEEPALIVE_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

/**
 * The components' client of the API server (proto/k8ts/apiserver.proto).
 *
 * Contract:
 * - Calls go to one API server, the "current" one, until a call reaches no server (gRPC UNAVAILABLE
 *   with no Status); then the next address becomes current and a unary call is tried there, once per
 *   address. API servers are stateless over one store, so any of them answers the same.
 * - A refused call rejects with the ApiError REST would give (same reason, code, details).
 * - A write retried after UNAVAILABLE may have been applied by the server that went away: creates
 *   then answer AlreadyExists and conditional updates Conflict, as on any retry in Kubernetes.
 * - Watches are not retried here: a watch that fails ends its iterator with the error, and the
 *   caller (an informer) resumes from the last resourceVersion it saw.
 * - Unary calls go over @k8ts/proto's UnaryChannel (node:http2 framed by hand), watches over
 *   grpc-js: without grpc-js's call stack the scheduler's bindings cost it half the CPU and ran
 *   faster (packages/scheduler's README, Speed).
 */
export class ApiClient implements ApiTransport {
  readonly fieldManager: string | undefined;
  private readonly clients: (grpc.Client | undefined)[];
  private readonly channels: UnaryChannel[];
  private readonly Api: grpc.ServiceClientConstructor;
  private current = 0;
  private closed = false;
  private readonly throttle: BucketRateLimiter<null> | undefined;
  private readonly clock: Clock;

  constructor(private readonly options: ApiClientOptions) {
    if (options.addresses.length === 0) throw new Error('ApiClient: at least one API server address is required');
    this.fieldManager = options.fieldManager;
    this.clients = options.addresses.map(() => undefined);
    this.channels = options.addresses.map((address) => new UnaryChannel(address, { keepaliveMs: KEEPALIVE_MS, keepaliveTimeoutMs: KEEPALIVE_TIMEOUT_MS }));
    this.Api = loadApiService().Api;
    this.clock = options.clock ?? realClock;
    if (options.qps !== undefined && options.qps > 0) this.throttle = new BucketRateLimiter(options.qps, options.burst ?? Math.ceil(options.qps), this.clock);
  }

  /** Typed verbs on one resource: `client.resource<Pod>('', 'v1', 'pods')`. */
  resource<T extends KubeObject>(group: string, version: string, resource: string): ResourceClient<T> {
    return new ResourceClient<T>(this, { group, version, resource }, undefined);
  }

  /** The address calls go to now. */
  currentAddress(): string {
    return this.options.addresses[this.current] as string;
  }

  async unary<Response>(method: string, request: object): Promise<Response> {
    await this.waitForTurn();
    let lastError: unknown;
    for (let attempt = 0; attempt < this.options.addresses.length; attempt++) {
      const index = this.current;
      try {
        return await this.invoke<Response>(index, method, request);
      } catch (error) {
        if (!isTransportFailure(error)) throw toApiError(error);
        this.failedOver(index, error);
        lastError = error;
      }
    }
    throw toApiError(lastError);
  }

  openStream(method: string, request: object): OpenedStream {
    const index = this.current;
    const client = this.client(index) as unknown as Record<string, (request: object, options: grpc.CallOptions) => grpc.ClientReadableStream<ApiWatchEvent>>;
    const stream = (client[method] as (request: object, options: grpc.CallOptions) => grpc.ClientReadableStream<ApiWatchEvent>).call(client, request, {});
    const failed = (error: unknown): void => {
      if (isTransportFailure(error)) this.failedOver(index, error);
    };
    return { stream, failed };
  }

  /** Waits as long as the QPS/Burst throttle asks (client-go's rate limiter before each request). */
  async waitForTurn(): Promise<void> {
    const delayMs = this.throttle?.when(null) ?? 0;
    if (delayMs > 0) await sleep(this.clock, delayMs);
  }

  close(): void {
    this.closed = true;
    for (const client of this.clients) client?.close();
    for (const channel of this.channels) channel.close();
  }

  private invoke<Response>(index: number, method: string, request: object): Promise<Response> {
    if (this.closed) return Promise.reject(new Error('ApiClient: closed'));
    const definition = this.Api.service[method] as grpc.MethodDefinition<object, Response> | undefined;
    if (definition === undefined) return Promise.reject(new Error(`ApiClient: no method ${method}`));
    return (this.channels[index] as UnaryChannel).call(definition, request, this.options.callTimeoutMs ?? 30_000);
  }

  private client(index: number): grpc.Client {
    if (this.closed) throw new Error('ApiClient: closed');
    let client = this.clients[index];
    if (client === undefined) {
      client = new this.Api(this.options.addresses[index] as string, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      this.clients[index] = client;
    }
    return client;
  }

  /** Moves on from `index` unless someone already did. */
  private failedOver(index: number, error: unknown): void {
    if (this.current !== index) return;
    this.current = (index + 1) % this.options.addresses.length;
    this.options.logger?.warn({ from: this.options.addresses[index], to: this.currentAddress(), err: (error as Error).message }, 'API server unavailable; failing over');
  }
}
