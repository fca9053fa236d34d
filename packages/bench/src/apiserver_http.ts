import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

/**
 * The benchmark's HTTP/1.1 client for the Kubernetes REST API, shaped like kubectl's requests: JSON
 * bodies with `Content-Type: application/json`, `Accept: application/json`, one keep-alive connection
 * pool (Node's http.Agent with keepAlive, at most `maxSockets` connections; a request beyond that
 * waits in the agent, and the open loop charges the wait). Idle connections are closed one second
 * before the server's `Keep-Alive: timeout=N` hint says it will close them (Node 20's agent applies
 * the hint only when it has a socket timeout of its own, so it is applied here); otherwise a request
 * sent on a connection the server is closing at that moment fails with ECONNRESET. Every request
 * carries a deadline. An
 * answer outside 2xx is an ApiRequestError named by its HTTP code and the Status reason and message.
 * https:// servers are accepted without verifying their certificate (a local self-signed apiserver).
 */

export const USER_AGENT = 'k8ts-bench/0.1.0 (node) kubernetes/bench';

export class ApiRequestError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: string;
}

export class ApiClient {
  private readonly base: URL;
  private readonly agent: http.Agent;

  constructor(
    server: string,
    readonly maxSockets: number,
    private readonly timeoutMs: number,
  ) {
    this.base = new URL(server);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`--server ${server}: an http:// or https:// URL`);
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
    this.agent = this.base.protocol === 'https:' ? new https.Agent({ ...options, rejectUnauthorized: false }) : new http.Agent(options);
    // Runs after the agent's own 'free' handler; the agent destroys a free socket that times out.
    this.agent.on('free', (socket: Socket) => {
      if (this.idleTimeoutMs !== undefined) socket.setTimeout(this.idleTimeoutMs);
    });
  }

  /** How long a connection may idle, from the server's Keep-Alive hint (undefined: no hint seen). */
  idleTimeoutMs: number | undefined;

  get server(): string {
    return this.base.origin;
  }

  /** Sends one request; resolves with any answer (status and body text), rejects on a network failure or the deadline. */
  request(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json', 'User-Agent': USER_AGENT };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const url = new URL(path, this.base);
    const send = this.base.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const request = send(url, { method, headers, agent: this.agent }, (response) => {
        const hintMs = keepAliveHintMs(String(response.headers['keep-alive'] ?? ''));
        if (hintMs !== undefined) this.idleTimeoutMs = Math.max(500, hintMs - 1000);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      request.setTimeout(this.timeoutMs, () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', reject);
      request.end(payload);
    });
  }

  /** Sends one request and parses the JSON answer; anything but `expected` throws an ApiRequestError. */
  async json<T>(method: string, path: string, body: unknown, expected: readonly number[]): Promise<T> {
    const answer = await this.request(method, path, body);
    if (!expected.includes(answer.status)) throw errorOf(method, answer);
    return JSON.parse(answer.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The `timeout=N` (seconds) of a Keep-Alive header, in milliseconds. */
export function keepAliveHintMs(header: string | undefined): number | undefined {
  const seconds = /(?:^|[,;\s])timeout=(\d+)/i.exec(header ?? '')?.[1];
  return seconds === undefined ? undefined : Number(seconds) * 1000;
}

/** An error from a non-2xx answer: `HTTP 409 Conflict: configmaps "x" …` from the Status body when there is one. */
export function errorOf(method: string, answer: ApiAnswer): ApiRequestError {
  let reason = http.STATUS_CODES[answer.status] ?? 'Unknown';
  let message = answer.body.slice(0, 200);
  try {
    const status = JSON.parse(answer.body) as { kind?: unknown; reason?: unknown; message?: unknown };
    if (status.kind === 'Status') {
      if (typeof status.reason === 'string' && status.reason !== '') reason = status.reason;
      if (typeof status.message === 'string') message = status.message;
    }
  } catch {
    // not JSON: keep the text
  }
  // Object names vary; the error counts group by kind of failure, so names are blanked.
  const general = message.replace(/"[^"]*"/g, '"…"');
  return new ApiRequestError(answer.status, reason, `${method} HTTP ${answer.status} ${reason}: ${general}`);
}

/** A ConfigMap's name, resourceVersion and the parts a benchmark reads back. */
export interface ConfigMapLike {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
}

export function resourceVersionOf(object: ConfigMapLike): string {
  const version = object.metadata?.resourceVersion;
  if (typeof version !== 'string' || version === '') throw new Error('answer without metadata.resourceVersion');
  return version;
}
