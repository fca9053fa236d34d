import { apiErrors } from '@k8ts/apimachinery';
import { connect, createInbox, headers, type NatsConnection } from '@nats-io/transport-node';

/**
 * What `GET pods/<name>/log` asks of the pod's node. The apiserver never reads a node's files: it
 * asks the node agent over NATS (signals over NATS, state through the apiserver — see GUIDE.md).
 *
 * The protocol, for node agents:
 * - request on `k8ts.node.<node>.logs`, payload this JSON, reply subject an inbox;
 * - the agent answers on the inbox: messages whose data is log bytes, then one with header
 *   `K8ts-Status: end`; or one with `K8ts-Status: error` whose data is the error text;
 * - for `follow`, it keeps sending until it receives anything on the request's `cancel` subject.
 * The first answer must come within ANSWER_TIMEOUT_MS.
 */
export interface LogRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  /** RFC 3339 (kubectl --since-time). */
  readonly sinceTime?: string;
  readonly limitBytes?: number;
}

export interface NodeLogs {
  /** Streams a container's log into `write` until it ends, fails, or `closed` is aborted. */
  stream(node: string, request: LogRequest, write: (chunk: Uint8Array) => void, closed: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export const LOGS_SUBJECT = (node: string): string => `k8ts.node.${node}.logs`;
const STATUS_HEADER = 'K8ts-Status';
const ANSWER_TIMEOUT_MS = 5000;

export class NatsNodeLogs implements NodeLogs {
  private constructor(private readonly nats: NatsConnection) {}

  static async connect(servers: string): Promise<NatsNodeLogs> {
    return new NatsNodeLogs(await connect({ servers: servers.split(','), name: 'k8ts-apiserver', maxReconnectAttempts: -1 }));
  }

  async stream(node: string, request: LogRequest, write: (chunk: Uint8Array) => void, closed: AbortSignal): Promise<void> {
    const inbox = createInbox();
    const cancel = `${inbox}.cancel`;
    const subscription = this.nats.subscribe(inbox);
    const stop = (): void => {
      this.nats.publish(cancel);
      subscription.unsubscribe();
    };
    closed.addEventListener('abort', stop, { once: true });
    const timer = setTimeout(() => subscription.unsubscribe(), ANSWER_TIMEOUT_MS);
    let answered = false;
    try {
      this.nats.publish(LOGS_SUBJECT(node), JSON.stringify({ ...request, cancel }), { reply: inbox, headers: headers() });
      for await (const message of subscription) {
        if (!answered) clearTimeout(timer);
        answered = true;
        if (message.headers?.code === 503) throw apiErrors.internal(`no node agent answers for node "${node}" (nobody listens on ${LOGS_SUBJECT(node)})`);
        const status = message.headers?.get(STATUS_HEADER);
        if (status === 'error') throw apiErrors.badRequest(new TextDecoder().decode(message.data));
        if (status === 'end') break;
        write(message.data);
      }
      if (!answered && !closed.aborted) throw apiErrors.internal(`the node agent of node "${node}" did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`);
    } finally {
      clearTimeout(timer);
      closed.removeEventListener('abort', stop);
      subscription.unsubscribe();
    }
  }

  async close(): Promise<void> {
    await this.nats.drain();
  }
}
