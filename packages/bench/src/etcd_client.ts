import * as grpc from '@grpc/grpc-js';
import {
  loadEtcdApi,
  type EtcdApi,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type StatusResponse,
  type WatchRequest,
  type WatchResponse,
} from '@k8ts/proto';

/**
 * Connections to etcd v3 endpoints, the way etcd's benchmark holds them: `conns` gRPC connections
 * (each its own TCP connection: a local subchannel pool per channel), connection j to endpoint
 * j mod endpoints, and client i using connection i mod conns. Requests carry a deadline; nothing is
 * retried here.
 */

type Callback<Response> = (error: grpc.ServiceError | null, response?: Response) => void;
type Unary<Request, Response> = (request: Request, options: grpc.CallOptions, callback: Callback<Response>) => grpc.ClientUnaryCall;

interface KvClient extends grpc.Client {
  Put: Unary<Partial<PutRequest>, PutResponse>;
  Range: Unary<Partial<RangeRequest>, RangeResponse>;
}

interface WatchClient extends grpc.Client {
  Watch: (options?: grpc.CallOptions) => grpc.ClientDuplexStream<WatchRequest, WatchResponse>;
}

interface MaintenanceClient extends grpc.Client {
  Status: Unary<Record<string, never>, StatusResponse>;
}

export interface Connection {
  readonly endpoint: string;
  readonly kv: KvClient;
  readonly watch: WatchClient;
}

/** What the tests need of a pool: a seam for fakes in unit tests. */
export interface EtcdClientPool {
  connectionFor(client: number): { readonly endpoint: string };
  put(client: number, request: Partial<PutRequest>): Promise<PutResponse>;
  range(client: number, request: Partial<RangeRequest>): Promise<RangeResponse>;
  watchStream(client: number): WatchStream;
}

/** The part of a gRPC watch stream the watch test uses. */
export interface WatchStream {
  on(event: 'data', listener: (response: WatchResponse) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  write(request: WatchRequest): unknown;
  end(): unknown;
  cancel(): unknown;
}

let cachedApi: EtcdApi | undefined;
function api(): EtcdApi {
  cachedApi ??= loadEtcdApi();
  return cachedApi;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // One TCP connection per Connection, as `--conns` promises (grpc-js shares them otherwise).
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

export class ConnectionPool implements EtcdClientPool {
  private constructor(
    readonly connections: readonly Connection[],
    private readonly requestTimeoutMs: number,
  ) {}

  static open(endpoints: readonly string[], conns: number, requestTimeoutMs: number): ConnectionPool {
    if (endpoints.length === 0) throw new RangeError('no endpoints');
    if (!Number.isInteger(conns) || conns < 1) throw new RangeError(`--conns ${conns} must be a positive integer`);
    const { KV, Watch } = api();
    const connections = Array.from({ length: conns }, (_, j): Connection => {
      const endpoint = endpoints[j % endpoints.length] ?? '';
      const kv = new KV(endpoint, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as KvClient;
      // The watch client shares the KV client's channel, hence its connection.
      const watch = new Watch(endpoint, grpc.credentials.createInsecure(), { channelOverride: kv.getChannel() }) as unknown as WatchClient;
      return { endpoint, kv, watch };
    });
    return new ConnectionPool(connections, requestTimeoutMs);
  }

  connectionFor(client: number): Connection {
    const connection = this.connections[client % this.connections.length];
    if (connection === undefined) throw new Error(`no connection for client ${client}`);
    return connection;
  }

  /** Waits until every connection is ready (so connecting is not timed as a request). */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      this.connections.map(
        (connection) =>
          new Promise<void>((resolve, reject) =>
            connection.kv.waitForReady(deadline, (error) =>
              error ? reject(new Error(`cannot connect to ${connection.endpoint}: ${error.message}`)) : resolve(),
            ),
          ),
      ),
    );
  }

  put(client: number, request: Partial<PutRequest>): Promise<PutResponse> {
    const kv = this.connectionFor(client).kv;
    return unary((callback) => kv.Put(request, this.callOptions(), callback));
  }

  range(client: number, request: Partial<RangeRequest>): Promise<RangeResponse> {
    const kv = this.connectionFor(client).kv;
    return unary((callback) => kv.Range(request, this.callOptions(), callback));
  }

  /** A watch stream on a client's connection; it has no deadline (the caller ends it). */
  watchStream(client: number): WatchStream {
    return this.connectionFor(client).watch.Watch();
  }

  close(): void {
    for (const connection of this.connections) {
      connection.watch.close();
      connection.kv.close();
    }
  }

  private callOptions(): grpc.CallOptions {
    return { deadline: Date.now() + this.requestTimeoutMs };
  }
}

function unary<Response>(send: (callback: Callback<Response>) => unknown): Promise<Response> {
  return new Promise((resolve, reject) => {
    send((error, response) => {
      if (error) reject(error);
      else if (response === undefined) reject(new Error('empty response'));
      else resolve(response);
    });
  });
}

/** Maintenance.Status of one endpoint (version, leader, db size), or the error's message. */
export async function endpointStatus(endpoint: string, timeoutMs: number): Promise<StatusResponse | string> {
  const client = new (api().Maintenance)(endpoint, grpc.credentials.createInsecure()) as unknown as MaintenanceClient;
  try {
    return await unary<StatusResponse>((callback) => client.Status({}, { deadline: Date.now() + timeoutMs }, callback));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.close();
  }
}
