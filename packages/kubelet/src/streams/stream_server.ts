import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { RuntimeError, type Runtime, type StreamingIO } from '../runtime/runtime.js';
import {
  ApiFrame,
  KEEPALIVE_MS,
  MAX_FRAME_BYTES,
  NodeFrame,
  STREAM_SUBJECT,
  WINDOW_BYTES,
  ackFrame,
  frame,
  frameJson,
  readAck,
  type AttachRequest,
  type ExecRequest,
  type PortForwardRequest,
  type StreamKind,
} from './protocol.js';

/** Where a pod's containers are on this node (the kubelet's `locate`). */
export interface LocatedPod {
  readonly podUid: string;
  readonly sandboxId?: string;
  readonly containerId?: string;
  readonly logDirectory: string;
}

export type LocateContainer = (namespace: string, pod: string, container?: string) => LocatedPod | undefined;

export interface NodeStreamServerOptions {
  readonly nats: NatsConnection;
  readonly nodeName: string;
  readonly runtime: Runtime;
  readonly locate: LocateContainer;
  readonly logger: Logger;
  /**
   * Output bytes held beyond the window before a session fails: the runtime's output callbacks
   * cannot be paused, so a client that reads too slowly ends its session rather than growing memory.
   */
  readonly maxBufferedBytes?: number;
  /** Keepalive period (KEEPALIVE_MS by default): an apiserver silent for three of them is gone. */
  readonly keepaliveMs?: number;
}

const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * Answers the apiserver's exec, attach and port-forward requests for this node over NATS (the
 * protocol of packages/apiserver/src/pod_streams.ts) by running them through the runtime.
 */
export class NodeStreamServer {
  private readonly subscriptions: Subscription[] = [];
  private readonly sessions = new Set<StreamSession>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: NodeStreamServerOptions) {}

  start(): void {
    for (const kind of ['exec', 'attach', 'portforward'] as const) {
      const subject = STREAM_SUBJECT(this.options.nodeName, kind);
      this.subscriptions.push(
        this.options.nats.subscribe(subject, {
          callback: (error, message) => {
            if (error) return this.options.logger.warn({ err: String(error), subject }, 'stream subscription failed');
            const served = this.serve(kind, message).catch((failure: unknown) =>
              this.options.logger.warn({ err: String(failure), subject }, 'stream session failed'),
            );
            this.running.add(served);
            void served.finally(() => this.running.delete(served));
          },
        }),
      );
    }
  }

  /** Stops answering; open sessions are cancelled (their processes stopped). */
  async stop(): Promise<void> {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    for (const session of this.sessions) session.cancel();
    await Promise.allSettled([...this.running]);
  }

  private async serve(kind: StreamKind, message: Msg): Promise<void> {
    if (!message.reply) return;
    const session = new StreamSession(this.options.nats, message.reply, this.options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, this.options.keepaliveMs ?? KEEPALIVE_MS);
    this.sessions.add(session);
    try {
      const request = JSON.parse(new TextDecoder().decode(message.data)) as unknown;
      if (kind === 'portforward') await this.portForward(session, request as PortForwardRequest);
      else await this.execOrAttach(session, kind, request as ExecRequest | AttachRequest);
    } catch (error) {
      const code = error instanceof RuntimeError ? error.code : 'Internal';
      await session.fail(code, error instanceof Error ? error.message : String(error));
    } finally {
      session.close();
      this.sessions.delete(session);
    }
  }

  private async execOrAttach(session: StreamSession, kind: 'exec' | 'attach', request: ExecRequest | AttachRequest): Promise<void> {
    const containerId = await this.runningContainer(request.namespace, request.pod, request.container);
    session.ready();
    if (!(await session.started) || session.closed.aborted) return;
    const io: StreamingIO = {
      tty: request.tty,
      closed: session.closed,
      ...(request.stdin ? { stdin: session.stdin } : {}),
      ...(request.stdout ? { stdout: (chunk: Uint8Array) => session.output(NodeFrame.STDOUT, chunk) } : {}),
      ...(request.stderr && !request.tty ? { stderr: (chunk: Uint8Array) => session.output(NodeFrame.STDERR, chunk) } : {}),
      ...(request.tty ? { resize: session.resizes } : {}),
    };
    if (kind === 'exec') {
      const exitCode = await this.options.runtime.exec(containerId, (request as ExecRequest).command, io);
      await session.exit({ exitCode });
    } else {
      await this.options.runtime.attach(containerId, io);
      await session.exit({});
    }
  }

  private async portForward(session: StreamSession, request: PortForwardRequest): Promise<void> {
    const located = this.options.locate(request.namespace, request.pod);
    if (located?.sandboxId === undefined) throw new RuntimeError('NotFound', `pod not found ("${request.pod}_${request.namespace}")`);
    session.ready();
    if (!(await session.started) || session.closed.aborted) return;
    try {
      await this.options.runtime.portForward(located.sandboxId, request.port, {
        input: session.stdin,
        write: (chunk) => session.output(NodeFrame.STDOUT, chunk),
        end: () => session.endOutput(),
        closed: session.closed,
      });
    } catch (error) {
      // kubelet's words, with the sandbox as the pod (as the CRI streaming server has it).
      const why = error instanceof Error ? error.message : String(error);
      throw new RuntimeError(error instanceof RuntimeError ? error.code : 'Internal', `error forwarding port ${request.port} to pod ${located.sandboxId}, uid : ${why}`);
    }
    await session.exit({});
  }

  /** The container's id if it runs; the kubelet only finds running containers for exec and attach. */
  private async runningContainer(namespace: string, pod: string, container: string): Promise<string> {
    const located = this.options.locate(namespace, pod, container);
    const notFound = new RuntimeError('NotFound', `container not found ("${container}")`);
    if (located?.containerId === undefined) throw notFound;
    try {
      const status = await this.options.runtime.containerStatus(located.containerId);
      if (status.state !== 'running') throw notFound;
    } catch (error) {
      if (error instanceof RuntimeError && error.code === 'NotFound') throw notFound;
      throw error;
    }
    return located.containerId;
  }
}

/** One exec/attach/port-forward session: its input subject, the two windows, and its end. */
class StreamSession {
  private readonly inputSubject = `${createInbox()}.input`;
  private readonly subscription: Subscription;
  private readonly abort = new AbortController();
  private credit = WINDOW_BYTES;
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private drained: (() => void)[] = [];
  private finished = false;
  private outputEnded = false;
  readonly stdin: InputQueue<Uint8Array>;
  readonly resizes = new InputQueue<{ width: number; height: number }>(() => undefined);
  /** True once the apiserver says START; false if it cancels first. */
  readonly started: Promise<boolean>;
  private begin!: (go: boolean) => void;
  private lastHeard = Date.now();
  private keepalive: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly nats: NatsConnection,
    private readonly reply: string,
    private readonly maxBufferedBytes: number,
    private readonly keepaliveMs: number,
  ) {
    this.started = new Promise((resolve) => (this.begin = resolve));
    this.stdin = new InputQueue<Uint8Array>((chunk) => this.publish(ackFrame(ApiFrame.ACK, chunk.length)));
    this.subscription = nats.subscribe(this.inputSubject, {
      callback: (error, message) => {
        try {
          if (error) this.cancel();
          else this.onFrame(message.data);
        } catch {
          this.cancel(); // a frame that does not parse: the apiserver is not one we speak with
        }
      },
    });
  }

  get closed(): AbortSignal {
    return this.abort.signal;
  }

  ready(): void {
    this.publish(frame(NodeFrame.READY, JSON.stringify({ input: this.inputSubject })));
    this.lastHeard = Date.now();
    this.keepalive = setInterval(() => {
      if (Date.now() - this.lastHeard <= 3 * this.keepaliveMs) return this.publish(frame(NodeFrame.KEEPALIVE));
      this.cancel(); // the apiserver is gone: nothing of this session may keep running
    }, this.keepaliveMs);
    this.keepalive.unref();
  }

  private onFrame(data: Uint8Array): void {
    this.lastHeard = Date.now();
    switch (data[0]) {
      case ApiFrame.STDIN:
        return this.stdin.push(data.slice(1));
      case ApiFrame.STDIN_END:
        return this.stdin.end();
      case ApiFrame.RESIZE:
        return this.resizes.push(frameJson<{ width: number; height: number }>(data));
      case ApiFrame.ACK:
        this.credit += readAck(data);
        return this.flush();
      case ApiFrame.CANCEL:
        return this.cancel();
      case ApiFrame.START:
        return this.begin(true);
      default:
        return undefined;
    }
  }

  /** Sends output within the window; holds the rest, up to maxBufferedBytes. */
  output(kind: number, chunk: Uint8Array): void {
    if (this.finished || this.abort.signal.aborted) return;
    for (let offset = 0; offset < chunk.length; offset += MAX_FRAME_BYTES) {
      this.pending.push(frame(kind, chunk.subarray(offset, offset + MAX_FRAME_BYTES)));
      this.pendingBytes += Math.min(MAX_FRAME_BYTES, chunk.length - offset);
    }
    this.flush();
    if (this.pendingBytes > this.maxBufferedBytes) {
      this.pending.length = 0;
      this.pendingBytes = 0;
      this.publish(frame(NodeFrame.ERROR, JSON.stringify({ code: 'Internal', message: 'the client reads the output too slowly: stream closed' })));
      this.finished = true;
      this.abort.abort();
    }
  }

  private flush(): void {
    while (this.credit > 0 && this.pending.length > 0) {
      const next = this.pending.shift() as Uint8Array;
      this.pendingBytes -= next.length - 1;
      if (next[0] !== NodeFrame.OUTPUT_END) this.credit -= next.length - 1;
      this.publish(next);
    }
    if (this.pending.length === 0) for (const wake of this.drained.splice(0)) wake();
  }

  endOutput(): void {
    if (this.outputEnded || this.finished || this.abort.signal.aborted) return;
    this.outputEnded = true;
    this.pending.push(frame(NodeFrame.OUTPUT_END));
    this.flush();
  }

  /** Resolves once every held output was sent (or the client went away). */
  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.abort.signal.aborted) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  async exit(result: { exitCode?: number }): Promise<void> {
    await this.drain();
    if (this.finished) return;
    this.finished = true;
    this.publish(frame(NodeFrame.EXIT, JSON.stringify(result)));
  }

  async fail(code: string, message: string): Promise<void> {
    await this.drain();
    if (this.finished) return;
    this.finished = true;
    this.publish(frame(NodeFrame.ERROR, JSON.stringify({ code, message })));
  }

  cancel(): void {
    this.begin(false);
    this.finished = true;
    this.abort.abort();
    this.stdin.end();
    this.resizes.end();
    for (const wake of this.drained.splice(0)) wake();
  }

  close(): void {
    clearInterval(this.keepalive);
    this.begin(false);
    this.subscription.unsubscribe();
    this.stdin.end();
    this.resizes.end();
    if (!this.abort.signal.aborted) this.abort.abort();
  }

  private publish(data: Uint8Array): void {
    try {
      if (!this.nats.isClosed()) this.nats.publish(this.reply, data);
    } catch {
      this.cancel(); // the connection is draining or gone: nobody hears this session any more
    }
  }
}

/** What the apiserver sends, as the runtime pulls it; `taken` is told of each item pulled. */
class InputQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(private readonly taken: (item: T) => void) {}

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        this.taken(item);
        yield item;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
