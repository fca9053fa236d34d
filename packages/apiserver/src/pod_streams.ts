import { apiErrors } from '@k8ts/apimachinery';
import { connect, createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/**
 * What `pods/exec`, `pods/attach` and `pods/portforward` ask of the pod's node: a two-way byte
 * stream over NATS, in the protocol @k8ts/proto's node_streams.ts defines (both halves import it).
 * The first answer must come within ANSWER_TIMEOUT_MS.
 */
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
  type StreamRequest,
} from '@k8ts/proto';

export {
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
  type StreamRequest,
} from '@k8ts/proto';

const ANSWER_TIMEOUT_MS = 5000;

/** The node's answer that ended a session (or refused it): RuntimeError's code and message. */
export class NodeStreamError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'NodeStreamError';
  }
}

/**
 * Takes the node's output; the promise resolves once the client has taken it (then it is
 * acknowledged). `end` (port-forward): the pod's side closed its output.
 */
export type StreamOutput = (stream: 'stdout' | 'stderr' | 'end', chunk: Uint8Array) => Promise<void> | void;

export interface NodeStreamSession {
  /** The client is ready for output: the node starts the command (attach, connection). */
  start(): void;
  /** Sends bytes to the process's stdin (the port); resolves when the window allows more. */
  write(chunk: Uint8Array): Promise<void>;
  endInput(): void;
  resize(width: number, height: number): void;
  /** The client went away: the node stops the process (closes the connection). */
  cancel(): void;
  /** Resolves when the node ends the session (exec: with the exit code); rejects with NodeStreamError. */
  readonly finished: Promise<{ readonly exitCode?: number }>;
}

export interface NodeStreams {
  /**
   * Opens a session once the node has found the container; rejects with NodeStreamError when it
   * refuses (e.g. the container is not running), or an ApiError when no node agent answers.
   */
  open(node: string, request: StreamRequest, output: StreamOutput): Promise<NodeStreamSession>;
  close(): Promise<void>;
}

export class NatsNodeStreams implements NodeStreams {
  constructor(
    private readonly nats: NatsConnection,
    private readonly options: { readonly keepaliveMs?: number } = {},
  ) {}

  static async connect(servers: string): Promise<NatsNodeStreams> {
    return new NatsNodeStreams(await connect({ servers: servers.split(','), name: 'k8ts-apiserver-streams', maxReconnectAttempts: -1 }));
  }

  async open(node: string, request: StreamRequest, output: StreamOutput): Promise<NodeStreamSession> {
    const { kind, ...body } = request;
    const subject = STREAM_SUBJECT(node, kind);
    const inbox = createInbox();
    const subscription = this.nats.subscribe(inbox);
    const session = new NatsStreamSession(this.nats, subscription, output, this.options.keepaliveMs ?? KEEPALIVE_MS);
    this.nats.publish(subject, JSON.stringify(body), { reply: inbox, headers: headers() });
    await session.ready(node, subject);
    return session;
  }

  async close(): Promise<void> {
    await this.nats.drain();
  }
}

class NatsStreamSession implements NodeStreamSession {
  private input = '';
  private credit = WINDOW_BYTES;
  private waiting: (() => void)[] = [];
  private ended = false;
  private readonly opened: Promise<void>;
  readonly finished: Promise<{ readonly exitCode?: number }>;
  private resolveOpened!: () => void;
  private rejectOpened!: (error: Error) => void;
  private lastHeard = Date.now();
  private nodeGone = false;
  private readonly keepalive: ReturnType<typeof setInterval>;

  constructor(
    private readonly nats: NatsConnection,
    private readonly subscription: Subscription,
    private readonly output: StreamOutput,
    keepaliveMs: number,
  ) {
    this.keepalive = setInterval(() => {
      if (this.input === '') return; // until READY, ANSWER_TIMEOUT_MS watches the node
      if (Date.now() - this.lastHeard <= 3 * keepaliveMs) return this.send(frame(ApiFrame.KEEPALIVE));
      this.nodeGone = true;
      this.subscription.unsubscribe();
    }, keepaliveMs);
    this.keepalive.unref();
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
    this.finished = this.run();
    // A session refused before READY is reported by `ready`; `finished` must not be unhandled then.
    this.finished.catch(() => undefined);
  }

  async ready(node: string, subject: string): Promise<void> {
    const timer = setTimeout(
      () => this.fail(apiErrors.internal(`the node agent of node "${node}" did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`)),
      ANSWER_TIMEOUT_MS,
    );
    try {
      await this.opened;
    } catch (error) {
      if (error instanceof NoResponders) throw apiErrors.internal(`no node agent answers for node "${node}" (nobody listens on ${subject})`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(error: Error): void {
    this.rejectOpened(error);
    this.subscription.unsubscribe();
  }

  private async run(): Promise<{ exitCode?: number }> {
    try {
      for await (const message of this.subscription) {
        this.lastHeard = Date.now();
        const result = await this.onMessage(message);
        if (result !== undefined) return result;
      }
      if (this.nodeGone) throw new NodeStreamError('Internal', 'the node agent stopped answering: stream closed');
      throw new NodeStreamError('Internal', 'the node agent ended the stream without an exit status');
    } catch (error) {
      this.rejectOpened(error as Error);
      throw error;
    } finally {
      clearInterval(this.keepalive);
      this.ended = true;
      this.subscription.unsubscribe();
      for (const wake of this.waiting.splice(0)) wake();
    }
  }

  /** Handles one frame from the node; returns the session's result when it is the last. */
  private async onMessage(message: Msg): Promise<{ exitCode?: number } | undefined> {
    if (message.headers?.code === 503) throw new NoResponders();
    const data = message.data;
    switch (data[0]) {
      case NodeFrame.READY:
        this.input = frameJson<{ input: string }>(data).input;
        this.resolveOpened();
        return undefined;
      case NodeFrame.STDOUT:
      case NodeFrame.STDERR: {
        const chunk = data.subarray(1);
        const taken = this.output(data[0] === NodeFrame.STDOUT ? 'stdout' : 'stderr', chunk);
        const ack = (): void => this.send(ackFrame(ApiFrame.ACK, chunk.length));
        if (taken instanceof Promise) taken.then(ack, () => undefined);
        else ack();
        return undefined;
      }
      case NodeFrame.OUTPUT_END:
        await this.output('end', data.subarray(1));
        return undefined;
      case NodeFrame.KEEPALIVE:
        return undefined;
      case NodeFrame.ACK:
        this.credit += readAck(data);
        for (const wake of this.waiting.splice(0)) wake();
        return undefined;
      case NodeFrame.EXIT:
        return frameJson<{ exitCode?: number }>(data);
      case NodeFrame.ERROR: {
        const { code, message: text } = frameJson<{ code: string; message: string }>(data);
        throw new NodeStreamError(code, text);
      }
      default:
        throw new NodeStreamError('Internal', `unknown frame ${String(data[0])} from the node agent`);
    }
  }

  private send(data: Uint8Array): void {
    if (this.input === '' || this.ended) return;
    try {
      this.nats.publish(this.input, data);
    } catch {
      // The connection is closed or draining (the apiserver stops): the session ends here.
      this.ended = true;
      this.subscription.unsubscribe();
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let offset = 0; offset < chunk.length; offset += MAX_FRAME_BYTES) {
      while (this.credit <= 0 && !this.ended) await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.ended) return;
      const piece = chunk.subarray(offset, offset + MAX_FRAME_BYTES);
      this.credit -= piece.length;
      this.send(frame(ApiFrame.STDIN, piece));
    }
  }

  start(): void {
    this.send(frame(ApiFrame.START));
  }

  endInput(): void {
    this.send(frame(ApiFrame.STDIN_END));
  }

  resize(width: number, height: number): void {
    this.send(frame(ApiFrame.RESIZE, JSON.stringify({ width, height })));
  }

  cancel(): void {
    this.send(frame(ApiFrame.CANCEL));
    this.ended = true;
    this.subscription.unsubscribe();
    for (const wake of this.waiting.splice(0)) wake();
  }
}

class NoResponders extends Error {}
