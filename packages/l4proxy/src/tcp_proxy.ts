/**
 * A bounded userspace TCP proxy, as kube-proxy's userspace mode was: accept, pick a backend, dial it
 * (another pick when it refuses or times out, up to `connectAttempts`), then splice the two sockets.
 *
 * Contract:
 * - Memory per connection is bounded: bytes move by `pipe`, so a slow reader pauses the other side's
 *   reads (each direction holds at most about one socket highWaterMark in userspace; the rest waits
 *   in the kernel's buffers and TCP's window). The client's socket stays paused until the backend
 *   answers, so nothing is buffered while dialling.
 * - Half-close passes through: a FIN from one side ends the proxy's write to the other, and the
 *   other direction keeps flowing until it ends too.
 * - An error on either side (a reset, a write to a gone peer, the idle timeout) ends both; a
 *   reset is passed on as a reset, so the peer does not mistake it for a clean end of stream.
 * - No backend reachable (none picked, or every attempt refused): the client is reset.
 * - Over `maxConnections` (connections being dialled or spliced), a new connection is closed at once.
 * - `setPickBackend` takes effect at the next connection; spliced connections keep their backend.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { invariant, realClock, type Clock, type TimerHandle } from '@k8ts/base';
import { pino, type Logger } from 'pino';
import { formatBackend, type Backend, type ClientAddress, type PickBackend } from './backend.js';

export interface TcpProxyOptions {
  /** Address to listen on, e.g. '127.0.0.1' or '0.0.0.0'. */
  readonly host: string;
  /** Port to listen on; 0 asks the OS for one (listen() says which). */
  readonly port: number;
  readonly pickBackend: PickBackend;
  /** Connections open at once (dialling or spliced); more are closed at once. */
  readonly maxConnections: number;
  /** How long one dial may take before the next backend is tried. */
  readonly connectTimeoutMs: number;
  /** Backends tried per connection before the client is reset; default 4 (kube-proxy's userspace mode). */
  readonly connectAttempts?: number;
  /** A connection with no bytes either way for this long is closed; 0 or absent: never. */
  readonly idleTimeoutMs?: number;
  readonly logger?: Logger;
  /** The connect timers' clock. */
  readonly clock?: Clock;
}

export interface TcpProxyCounters {
  /** Connections open now (dialling or spliced). */
  readonly active: number;
  /** Connections admitted (under maxConnections) since start. */
  readonly accepted: number;
  /** Connections closed at once because maxConnections were open. */
  readonly refused: number;
  /** Admitted connections reset because no backend could be reached. */
  readonly failed: number;
  /** Dials that failed and were followed by another pick. */
  readonly retries: number;
}

/** One open connection, for metrics and tests: where it goes and what the proxy holds for it. */
export interface TcpConnectionState {
  readonly client: ClientAddress;
  /** The backend being dialled or spliced; undefined before the first pick. */
  readonly backend: Backend | undefined;
  readonly spliced: boolean;
  /** Bytes the proxy holds in userspace on their way to the client / to the backend. */
  readonly toClientBufferedBytes: number;
  readonly toBackendBufferedBytes: number;
  /** Whether the proxy has stopped reading from the backend / client (backpressure). */
  readonly backendReadPaused: boolean;
  readonly clientReadPaused: boolean;
}

export const DEFAULT_CONNECT_ATTEMPTS = 4;

interface Connection {
  readonly client: Socket;
  readonly clientAddress: ClientAddress;
  backend: Socket | undefined;
  target: Backend | undefined;
  dialTimer: TimerHandle | undefined;
  spliced: boolean;
}

export class TcpProxy {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly connectAttempts: number;
  private pickBackend: PickBackend;
  private closing = false;
  private counts = { accepted: 0, refused: 0, failed: 0, retries: 0 };

  constructor(private readonly options: TcpProxyOptions) {
    invariant(Number.isInteger(options.maxConnections) && options.maxConnections > 0, `maxConnections must be a positive integer, got ${options.maxConnections}`);
    invariant(options.connectTimeoutMs > 0, `connectTimeoutMs must be positive, got ${options.connectTimeoutMs}`);
    this.connectAttempts = options.connectAttempts ?? DEFAULT_CONNECT_ATTEMPTS;
    invariant(Number.isInteger(this.connectAttempts) && this.connectAttempts > 0, `connectAttempts must be a positive integer, got ${this.connectAttempts}`);
    this.pickBackend = options.pickBackend;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.clock = options.clock ?? realClock;
    this.server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.accept(socket));
    this.server.on('error', (error) => this.logger.error({ err: error }, 'tcp proxy listener error'));
  }

  /** Starts listening; resolves with the bound port (the OS's choice when `port` is 0). */
  listen(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        invariant(typeof address === 'object' && address !== null, 'a listening TCP server has an address');
        this.logger.info({ host: this.options.host, port: address.port }, 'tcp proxy listening');
        resolve({ port: address.port });
      });
    });
  }

  /** Stops accepting, closes every open connection, and resolves when the listener is closed. */
  close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    for (const connection of this.connections) {
      connection.client.destroy();
      connection.backend?.destroy();
    }
    return closed;
  }

  /** Changes how the next connections pick their backend; open connections are left alone. */
  setPickBackend(pickBackend: PickBackend): void {
    this.pickBackend = pickBackend;
  }

  counters(): TcpProxyCounters {
    return { active: this.connections.size, ...this.counts };
  }

  connectionStates(): TcpConnectionState[] {
    return [...this.connections].map((connection) => ({
      client: connection.clientAddress,
      backend: connection.target,
      spliced: connection.spliced,
      toClientBufferedBytes: connection.client.writableLength + (connection.backend?.readableLength ?? 0),
      toBackendBufferedBytes: (connection.backend?.writableLength ?? 0) + connection.client.readableLength,
      backendReadPaused: connection.backend?.isPaused() ?? true,
      clientReadPaused: connection.client.isPaused(),
    }));
  }

  private accept(client: Socket): void {
    const clientAddress = { address: client.remoteAddress ?? '', port: client.remotePort ?? 0 };
    if (this.closing || this.connections.size >= this.options.maxConnections) {
      this.counts.refused += 1;
      this.logger.warn({ client: clientAddress, open: this.connections.size }, 'tcp proxy full: connection closed');
      client.destroy();
      return;
    }
    this.counts.accepted += 1;
    const connection: Connection = { client, clientAddress, backend: undefined, target: undefined, dialTimer: undefined, spliced: false };
    this.connections.add(connection);
    client.setNoDelay(true);
    client.on('error', (error) => this.abort(connection, client, error));
    client.on('close', () => {
      // The client left while a dial was in flight: stop dialling.
      if (!connection.spliced) {
        connection.dialTimer?.cancel();
        connection.backend?.destroy();
      }
      this.forgetWhenClosed(connection);
    });
    const idleTimeoutMs = this.options.idleTimeoutMs ?? 0;
    if (idleTimeoutMs > 0) {
      // A socket's timer restarts on reads and writes, so the client's covers both directions.
      client.setTimeout(idleTimeoutMs, () => {
        this.logger.debug({ client: clientAddress, idleTimeoutMs }, 'tcp proxy connection idle: closed');
        client.destroy();
        connection.backend?.destroy();
      });
    }
    this.dial(connection, 0, []);
  }

  private dial(connection: Connection, attempt: number, failed: Backend[]): void {
    if (connection.client.destroyed) return;
    let target: Backend | undefined;
    try {
      target = this.pickBackend(connection.clientAddress, { attempt, failed: [...failed] });
    } catch (error) {
      this.logger.error({ err: error, client: connection.clientAddress }, 'tcp proxy pickBackend threw');
    }
    if (target === undefined) return this.giveUp(connection, failed.length === 0 ? 'no backend' : `no backend left after ${failed.map(formatBackend).join(', ')} failed`);
    const chosen = target;
    const backend = connect({ host: chosen.host, port: chosen.port, allowHalfOpen: true });
    connection.backend = backend;
    connection.target = chosen;
    const timer = this.clock.schedule(this.options.connectTimeoutMs, () => backend.destroy(new Error(`connect to ${formatBackend(chosen)} timed out after ${this.options.connectTimeoutMs} ms`)));
    connection.dialTimer = timer;
    const onDialError = (error: Error): void => {
      timer.cancel();
      this.logger.debug({ err: error, backend: formatBackend(chosen), attempt }, 'tcp proxy dial failed');
      backend.destroy();
      const tried = [...failed, chosen];
      if (attempt + 1 >= this.connectAttempts) return this.giveUp(connection, `${tried.length} dials failed, last ${formatBackend(chosen)}: ${error.message}`);
      this.counts.retries += 1;
      this.dial(connection, attempt + 1, tried);
    };
    backend.once('error', onDialError);
    backend.once('connect', () => {
      timer.cancel();
      backend.off('error', onDialError);
      this.splice(connection, backend);
    });
    backend.on('close', () => this.forgetWhenClosed(connection));
  }

  private splice(connection: Connection, backend: Socket): void {
    const { client } = connection;
    if (client.destroyed) {
      backend.destroy();
      return;
    }
    connection.spliced = true;
    backend.setNoDelay(true);
    backend.on('error', (error) => this.abort(connection, backend, error));
    // pipe() carries backpressure both ways and, with allowHalfOpen on both sockets, turns each
    // side's end into an end (FIN) on the other: half-close passes through.
    client.pipe(backend);
    backend.pipe(client);
  }

  /** An error on one side: reset the other, so it sees a failure and not an orderly end. */
  private abort(connection: Connection, failedSide: Socket, error: Error): void {
    this.logger.debug({ err: error, client: connection.clientAddress, side: failedSide === connection.client ? 'client' : 'backend' }, 'tcp proxy connection error');
    for (const socket of [connection.client, connection.backend]) {
      if (socket === undefined || socket === failedSide) continue;
      reset(socket);
    }
    failedSide.destroy();
  }

  private giveUp(connection: Connection, reason: string): void {
    this.counts.failed += 1;
    this.logger.warn({ client: connection.clientAddress, reason }, 'tcp proxy could not reach a backend: client reset');
    reset(connection.client);
  }

  private forgetWhenClosed(connection: Connection): void {
    const backendClosed = connection.backend === undefined || connection.backend.closed;
    if (connection.client.closed && backendClosed) this.connections.delete(connection);
  }
}

/** Closes a socket with RST (SO_LINGER 0) when it has a TCP handle, else just destroys it. */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
