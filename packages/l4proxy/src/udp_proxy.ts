/**
 * A bounded userspace UDP proxy, as kube-proxy's userspace mode forwarded UDP Services: a flow per
 * client address (ip:port), each with a socket of its own towards the backend picked when the flow
 * began, so replies find their way back to the right client.
 *
 * Contract:
 * - A flow lives while datagrams pass either way; after `idleTimeoutMs` with none it is closed (its
 *   socket too) and the client's next datagram starts a new flow, with a new pick.
 * - At most `maxFlows` flows: a datagram that would start one more is dropped (and counted).
 * - No backend picked: the datagram is dropped. UDP has no refusal to retry on, so one pick per flow.
 * - Only datagrams from the flow's backend are relayed to its client; others are dropped.
 * - `setPickBackend` takes effect for new flows; open flows keep their backend until they expire.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';
import { invariant, realClock, type Clock, type TimerHandle } from '@k8ts/base';
import { pino, type Logger } from 'pino';
import { FIRST_ATTEMPT, formatBackend, type Backend, type ClientAddress, type PickBackend } from './backend.js';

export interface UdpProxyOptions {
  readonly host: string;
  /** 0 asks the OS for a port (listen() says which). */
  readonly port: number;
  readonly pickBackend: PickBackend;
  /** Flows open at once; datagrams that would start more are dropped. */
  readonly maxFlows: number;
  /** A flow with no datagram either way for this long is closed. Default 5000 ms. */
  readonly idleTimeoutMs?: number;
  readonly logger?: Logger;
  /** The idle timers' clock. */
  readonly clock?: Clock;
}

export interface UdpProxyCounters {
  /** Flows open now. */
  readonly flows: number;
  readonly flowsCreated: number;
  readonly flowsExpired: number;
  readonly datagramsToBackend: number;
  readonly datagramsToClient: number;
  /** Datagrams dropped: no backend, too many flows, a send that failed, or a stray reply. */
  readonly dropped: number;
}

export const DEFAULT_UDP_IDLE_TIMEOUT_MS = 5000;

interface Flow {
  readonly key: string;
  readonly client: ClientAddress;
  readonly backend: Backend;
  readonly socket: Socket;
  lastActiveMs: number;
  idleTimer: TimerHandle | undefined;
}

export class UdpProxy {
  private readonly server: Socket;
  private readonly flows = new Map<string, Flow>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly idleTimeoutMs: number;
  private pickBackend: PickBackend;
  private closed = false;
  private counts = { flowsCreated: 0, flowsExpired: 0, datagramsToBackend: 0, datagramsToClient: 0, dropped: 0 };

  constructor(private readonly options: UdpProxyOptions) {
    invariant(Number.isInteger(options.maxFlows) && options.maxFlows > 0, `maxFlows must be a positive integer, got ${options.maxFlows}`);
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_UDP_IDLE_TIMEOUT_MS;
    invariant(this.idleTimeoutMs > 0, `idleTimeoutMs must be positive, got ${this.idleTimeoutMs}`);
    this.pickBackend = options.pickBackend;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.clock = options.clock ?? realClock;
    this.server = createSocket(isIPv6(options.host) ? 'udp6' : 'udp4');
    this.server.on('message', (message, from) => this.fromClient(message, from));
    this.server.on('error', (error) => this.logger.error({ err: error }, 'udp proxy socket error'));
  }

  listen(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.bind(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        const { port } = this.server.address();
        this.logger.info({ host: this.options.host, port }, 'udp proxy listening');
        resolve({ port });
      });
    });
  }

  /** Closes every flow and the listening socket. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const flow of [...this.flows.values()]) this.closeFlow(flow);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  setPickBackend(pickBackend: PickBackend): void {
    this.pickBackend = pickBackend;
  }

  counters(): UdpProxyCounters {
    return { flows: this.flows.size, ...this.counts };
  }

  /** The open flows: which client goes to which backend. */
  flowStates(): { client: ClientAddress; backend: Backend; lastActiveMs: number }[] {
    return [...this.flows.values()].map((flow) => ({ client: flow.client, backend: flow.backend, lastActiveMs: flow.lastActiveMs }));
  }

  private fromClient(message: Buffer, from: RemoteInfo): void {
    if (this.closed) return;
    const key = `${from.address}|${from.port}`;
    const flow = this.flows.get(key) ?? this.openFlow(key, { address: from.address, port: from.port });
    if (flow === undefined) {
      this.counts.dropped += 1;
      return;
    }
    flow.lastActiveMs = this.clock.now();
    flow.socket.send(message, flow.backend.port, flow.backend.host, (error) => {
      if (error === null) return void (this.counts.datagramsToBackend += 1);
      this.counts.dropped += 1;
      this.logger.debug({ err: error, backend: formatBackend(flow.backend) }, 'udp proxy send to backend failed');
    });
  }

  private openFlow(key: string, client: ClientAddress): Flow | undefined {
    if (this.flows.size >= this.options.maxFlows) {
      this.logger.warn({ client, flows: this.flows.size }, 'udp proxy full: datagram dropped');
      return undefined;
    }
    let backend: Backend | undefined;
    try {
      backend = this.pickBackend(client, FIRST_ATTEMPT);
    } catch (error) {
      this.logger.error({ err: error, client }, 'udp proxy pickBackend threw');
    }
    if (backend === undefined) {
      this.logger.debug({ client }, 'udp proxy has no backend: datagram dropped');
      return undefined;
    }
    const socket = createSocket(isIPv6(backend.host) ? 'udp6' : 'udp4');
    const flow: Flow = { key, client, backend, socket, lastActiveMs: this.clock.now(), idleTimer: undefined };
    socket.on('message', (reply, from) => this.fromBackend(flow, reply, from));
    socket.on('error', (error) => {
      this.logger.debug({ err: error, backend: formatBackend(flow.backend) }, 'udp proxy flow socket error: flow closed');
      this.closeFlow(flow);
    });
    this.flows.set(key, flow);
    this.counts.flowsCreated += 1;
    this.scheduleIdleCheck(flow, this.idleTimeoutMs);
    return flow;
  }

  private fromBackend(flow: Flow, reply: Buffer, from: RemoteInfo): void {
    const fromBackend = from.port === flow.backend.port && (isIP(flow.backend.host) === 0 || from.address === flow.backend.host);
    if (!fromBackend || this.closed) {
      this.counts.dropped += 1;
      return;
    }
    flow.lastActiveMs = this.clock.now();
    this.server.send(reply, flow.client.port, flow.client.address, (error) => {
      if (error === null) return void (this.counts.datagramsToClient += 1);
      this.counts.dropped += 1;
      this.logger.debug({ err: error, client: flow.client }, 'udp proxy send to client failed');
    });
  }

  /** Checks at the earliest moment the flow could be idle, and again later if it was used meanwhile. */
  private scheduleIdleCheck(flow: Flow, delayMs: number): void {
    flow.idleTimer = this.clock.schedule(delayMs, () => {
      const idleMs = this.clock.now() - flow.lastActiveMs;
      if (idleMs < this.idleTimeoutMs) return this.scheduleIdleCheck(flow, this.idleTimeoutMs - idleMs);
      this.counts.flowsExpired += 1;
      this.logger.debug({ client: flow.client, backend: formatBackend(flow.backend), idleMs }, 'udp proxy flow idle: closed');
      this.closeFlow(flow);
    });
  }

  private closeFlow(flow: Flow): void {
    if (this.flows.get(flow.key) !== flow) return;
    this.flows.delete(flow.key);
    flow.idleTimer?.cancel();
    flow.socket.close();
  }
}
