import * as grpc from '@grpc/grpc-js';
import { apiErrors, type Status } from '@k8ts/apimachinery';
import {
  loadEtcdApi,
  type Compare,
  type KeyValue,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type StatusResponse,
  type TxnResponse,
  type WatchRequest,
  type WatchResponse,
  UnaryChannel,
  type UnaryError,
} from '@k8ts/proto';

type Callback<Response> = (error: grpc.ServiceError | null, response?: Response) => void;
/** A Txn request as this client builds it (proto-loader fills in what is left out). */
interface TxnRequest {
  compare: Partial<Compare>[];
  success: Partial<RequestOp>[];
  failure: Partial<RequestOp>[];
}
type Unary<Request, Response> = (request: Request, options: grpc.CallOptions, callback: Callback<Response>) => grpc.ClientUnaryCall;

interface MaintenanceClient extends grpc.Client {
  Status: Unary<Record<string, never>, StatusResponse>;
}

interface WatchClient extends grpc.Client {
  Watch: (options?: grpc.CallOptions) => grpc.ClientDuplexStream<WatchRequest, WatchResponse>;
}

/** etcd's message for a read or watch below the compacted revision. */
export const COMPACTED_MESSAGE = 'etcdserver: mvcc: required revision has been compacted';

export class EtcdError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = 'EtcdError';
  }

  get compacted(): boolean {
    return this.message.includes('required revision has been compacted');
  }
}

/**
 * A store error as the Status kube-apiserver answers it with (undefined when `message` is not a
 * store error), following k8s.io/apiserver's storage error interpretation:
 * - "etcdserver: request is too large" (and gRPC's own refusal of an oversized message) can never
 *   succeed on retry: 413 RequestEntityTooLarge, as the apiserver's own body limit answers it;
 * - a compacted revision: 410 Expired, the resourceVersion is too old;
 * - the store unreachable or slow ("request timed out", "leader changed", unavailable, deadline):
 *   504 Timeout, the write may still land;
 * - any other store error ("mvcc: database space exceeded", ...): 500 InternalError with its text.
 */
export function storeErrorStatus(message: string): Status | undefined {
  if (/etcdserver: request is too large|RESOURCE_EXHAUSTED|larger than max/i.test(message)) return apiErrors.tooLarge().status;
  if (message.includes('required revision has been compacted')) return apiErrors.expired('The resourceVersion for the provided list is too old.').status;
  // A store no member of which answers (killed, cut off: the connection itself fails) is a timeout
  // too: kube-apiserver's etcd client retries such a request until its deadline, then answers 504.
  if (/request timed out|leader changed|UNAVAILABLE|DEADLINE_EXCEEDED|no response|no leader|timed out|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|pending stream has been canceled/i.test(message)) {
    return apiErrors.timeout(`the server was unable to return a response in the time allotted, but may still be processing the request (store: ${message})`).status;
  }
  if (message.includes('etcdserver')) return apiErrors.internal(message).status;
  return undefined;
}

/** The end of the range of every key with `prefix` (etcd's "prefix" range_end). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

const RETRYABLE = new Set([grpc.status.UNAVAILABLE]);

/**
 * The API server's client of the etcd v3 API: one connection per endpoint, requests go to the
 * current one and move to the next when it is unavailable (a member killed, a cut network).
 * Works against k8ts-store and real etcd alike.
 */
export class EtcdClient {
  private readonly kvs: UnaryChannel[];
  private readonly rangeMethod: grpc.MethodDefinition<Partial<RangeRequest>, RangeResponse>;
  private readonly txnMethod: grpc.MethodDefinition<TxnRequest, TxnResponse>;
  private readonly watches: WatchClient[];
  private readonly maintenance: MaintenanceClient[];
  private current = 0;
  private leaderTimer: NodeJS.Timeout | undefined;
  private readonly movedListeners: (() => void)[] = [];

  constructor(
    readonly endpoints: readonly string[],
    private readonly requestTimeoutMs = 10_000,
  ) {
    if (endpoints.length === 0) throw new RangeError('no etcd endpoints');
    const api = loadEtcdApi();
    const options: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 256 * 1024 * 1024, 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 2000 };
    const credentials = grpc.credentials.createInsecure();
    this.kvs = endpoints.map((endpoint) => new UnaryChannel(stripScheme(endpoint)));
    this.rangeMethod = api.KV.service['Range'] as grpc.MethodDefinition<Partial<RangeRequest>, RangeResponse>;
    this.txnMethod = api.KV.service['Txn'] as grpc.MethodDefinition<TxnRequest, TxnResponse>;
    this.watches = endpoints.map((endpoint) => new api.Watch(stripScheme(endpoint), credentials, options) as unknown as WatchClient);
    this.maintenance = endpoints.map((endpoint) => new api.Maintenance(stripScheme(endpoint), credentials, options) as unknown as MaintenanceClient);
  }

  /**
   * Prefers the store's leader: a write through a follower costs the store a forward and the
   * follower's own apply before it is answered. kube-apiserver's etcd client does not do this;
   * it is pure placement (any endpoint gives the same answers), so it works on real etcd alike.
   * Looks again every `everyMs`, as leadership moves.
   */
  followLeader(everyMs = 5000): Promise<void> {
    this.leaderTimer ??= setInterval(() => void this.findLeader(), everyMs);
    return this.findLeader();
  }

  private async findLeader(): Promise<void> {
    const statuses = await Promise.all(
      this.maintenance.map(
        (client) =>
          new Promise<StatusResponse | undefined>((resolve) =>
            client.Status({}, { deadline: Date.now() + 1000 }, (error, response) => resolve(error ? undefined : response)),
          ),
      ),
    );
    const leader = statuses.findIndex((status) => status !== undefined && status.leader !== '0' && status.leader === status.header?.member_id);
    if (leader >= 0) this.moveTo(leader);
  }

  /** Called whenever requests move to another member (watch streams elsewhere should follow). */
  onMoved(listener: () => void): void {
    this.movedListeners.push(listener);
  }

  range(request: Partial<RangeRequest>): Promise<RangeResponse> {
    return this.unary(this.rangeMethod, request, true);
  }

  /**
   * A transaction. Retried on another endpoint only when `idempotent`: a write that timed out may
   * have happened, and callers' compares decide what a retry means.
   */
  txn(compare: Partial<Compare>[], success: Partial<RequestOp>[], failure: Partial<RequestOp>[] = [], idempotent = false): Promise<TxnResponse> {
    return this.unary(this.txnMethod, { compare, success, failure }, idempotent);
  }

  /** A raw watch stream on the current endpoint (the watch cache manages its lifecycle). */
  watchStream(): grpc.ClientDuplexStream<WatchRequest, WatchResponse> {
    return (this.watches[this.current] as WatchClient).Watch();
  }

  /** The stream failed: let the next one go to another endpoint. */
  rotate(): void {
    this.moveTo((this.current + 1) % this.endpoints.length);
  }

  /** Which endpoint requests and new watch streams go to now. */
  currentEndpoint(): number {
    return this.current;
  }

  private moveTo(endpoint: number): void {
    if (endpoint === this.current) return;
    this.current = endpoint;
    for (const listener of this.movedListeners) listener();
  }

  close(): void {
    if (this.leaderTimer) clearInterval(this.leaderTimer);
    for (const client of [...this.kvs, ...this.watches, ...this.maintenance]) client.close();
  }

  private async unary<Request, Response>(method: grpc.MethodDefinition<Request, Response>, request: Request, retry: boolean): Promise<Response> {
    let lastError: EtcdError | undefined;
    const attempts = retry ? this.endpoints.length : 1;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const kv = this.kvs[this.current] as UnaryChannel;
      try {
        return await kv.call(method, request, this.requestTimeoutMs);
      } catch (error) {
        const { code, details } = error as UnaryError;
        lastError = new EtcdError(code ?? grpc.status.UNKNOWN, details ?? String(error));
        if (!RETRYABLE.has(lastError.code)) throw lastError;
        this.rotate();
      }
    }
    throw lastError ?? new EtcdError(grpc.status.UNAVAILABLE, 'no endpoint');
  }
}

function stripScheme(endpoint: string): string {
  return endpoint.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

export type { KeyValue };
