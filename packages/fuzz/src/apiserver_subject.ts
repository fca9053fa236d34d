import { request as httpRequest, type IncomingMessage } from 'node:http';
import { ApiCaseGenerator, fixtures, type ApiCase, type FuzzScope } from './apiserver_cases.js';
import type { FuzzAnswer, FuzzSubject } from './fuzz_run.js';

export interface ApiServerSubjectOptions {
  /** The apiserver's plain-HTTP URL (http://127.0.0.1:port). */
  readonly url: string;
  /** Whether the apiserver's process is still running (its exit, if not); checked before /healthz. */
  readonly processExit?: () => string | undefined;
  /** A request must be answered (status line and, unless it is a watch, the whole body) within this (default 5 s). */
  readonly deadlineMs?: number;
  /** How long a watch that answered 200 is read before the fuzzer closes it (default 100 ms). */
  readonly watchReadMs?: number;
}

/** One HTTP exchange as the fuzzer saw it. */
export interface HttpOutcome {
  /** The HTTP status; 0 when there was none. */
  readonly code: number;
  readonly contentType: string;
  readonly body: string;
  /** Why no whole answer came: a dropped connection or the deadline. */
  readonly error?: string;
}

/**
 * kube-apiserver's REST API (as k8ts-apiserver serves it over plain HTTP) as a fuzz subject.
 * An answer breaks the contract when it does not come within the deadline (a hang), when the
 * connection drops before it is whole, when a status >= 400 is not a JSON `Status` (kind
 * "Status", apiVersion "v1", status "Failure", a reason, and `code` equal to the HTTP status),
 * and when it is a 5xx: kube-apiserver answers bad input with 4xx. Four answers are upstream's
 * own and pass: Go's plain-text "400 Bad Request" for a request target with a malformed escape
 * (net/http refuses it before any handler), a PATCH's 500 with an empty reason (a plain error of
 * the patch code, see plainPatchError), 503 ServiceUnavailable for a pod's log when no node bus
 * is configured, and 504 Timeout for a resourceVersion far in the future (kube's "Too large
 * resource version").
 *
 * Each seed acts in its own namespace `fuzz-<seed>` with fixtures (`prepare`), so a seed replays
 * alone with the state it had in a run.
 */
export class ApiServerSubject implements FuzzSubject<ApiCase> {
  private readonly deadlineMs: number;
  private readonly watchReadMs: number;
  private generator: ApiCaseGenerator | undefined;

  constructor(private readonly options: ApiServerSubjectOptions) {
    this.deadlineMs = options.deadlineMs ?? 5000;
    this.watchReadMs = options.watchReadMs ?? 100;
  }

  /** Makes the seed's namespace and fixtures; call before each seed's run. */
  async prepare(seed: number): Promise<void> {
    const scope: FuzzScope = { namespace: `fuzz-${seed}` };
    for (const fixture of fixtures(scope)) {
      const outcome = await this.exchange('POST', fixture.collectionPath, Buffer.from(JSON.stringify(fixture.object)), 'application/json', false);
      if (outcome.code !== 201 && outcome.code !== 409) throw new Error(`fixture ${fixture.collectionPath}: ${outcome.code} ${outcome.error ?? outcome.body.slice(0, 300)}`);
    }
    this.generator = new ApiCaseGenerator(scope);
  }

  generate(random: () => number): ApiCase {
    if (this.generator === undefined) throw new Error('prepare(seed) first: a seed acts in its own namespace');
    return this.generator.generate(random);
  }

  describe(fuzzCase: ApiCase): string {
    const path = fuzzCase.path.length <= 160 ? fuzzCase.path : `${fuzzCase.path.slice(0, 160)}… (${fuzzCase.path.length} characters)`;
    const body = fuzzCase.body === undefined ? '' : ` [${fuzzCase.contentType ?? 'no content type'}, ${fuzzCase.body.length} bytes: ${JSON.stringify(fuzzCase.body.subarray(0, 60).toString('latin1'))}]`;
    return `${fuzzCase.operation} (${fuzzCase.shape}): ${fuzzCase.method} ${path}${body}`;
  }

  mayWrite(fuzzCase: ApiCase): boolean {
    return fuzzCase.writes;
  }

  async send(fuzzCase: ApiCase): Promise<FuzzAnswer> {
    const outcome = await this.exchange(fuzzCase.method, fuzzCase.path, fuzzCase.body, fuzzCase.contentType, fuzzCase.watch);
    return judgeHttp(fuzzCase, outcome);
  }

  /**
   * The collection the case addresses, each object by name, uid and resourceVersion, and the
   * list's resourceVersion, which is the store's revision: a write anywhere moves it.
   */
  async snapshot(fuzzCase: ApiCase): Promise<string> {
    const outcome = await this.exchange('GET', fuzzCase.collectionPath, undefined, undefined, false);
    if (outcome.code !== 200) throw new Error(`listing ${fuzzCase.collectionPath}: ${outcome.code} ${outcome.error ?? outcome.body.slice(0, 300)}`);
    const list = JSON.parse(outcome.body) as { metadata: { resourceVersion: string }; items: { metadata: { name: string; uid: string; resourceVersion: string } }[] };
    const items = list.items.map((item) => `${item.metadata.name}/${item.metadata.uid}@${item.metadata.resourceVersion}`);
    return JSON.stringify({ revision: list.metadata.resourceVersion, items });
  }

  async health(): Promise<string | undefined> {
    const exit = this.options.processExit?.();
    if (exit !== undefined) return exit;
    const outcome = await this.exchange('GET', '/healthz', undefined, undefined, false);
    if (outcome.code === 200 && outcome.body === 'ok') return undefined;
    return `/healthz answered ${outcome.code} ${outcome.error ?? JSON.stringify(outcome.body.slice(0, 200))}`;
  }

  /**
   * One request on its own connection. A watch that answers 200 is read for `watchReadMs` and
   * closed by us; anything else must end within the deadline.
   */
  exchange(method: string, path: string, body: Buffer | undefined, contentType: string | undefined, watch: boolean): Promise<HttpOutcome> {
    const url = new URL(this.options.url);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: HttpOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        request.destroy();
        resolve(outcome);
      };
      // keep-alive, as kubectl's connections are: a server that answers before reading a large body
      // then drains it (Node's http server does) instead of closing the socket on the unread rest,
      // which resets the connection and can lose the answer. The socket is ours alone (no agent).
      const headers: Record<string, string | number> = { Accept: 'application/json', Connection: 'keep-alive' };
      if (contentType !== undefined) headers['Content-Type'] = contentType;
      if (body !== undefined) headers['Content-Length'] = body.length;
      let answered = false;
      const request = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        const answer = (error?: string): HttpOutcome => ({
          code: response.statusCode ?? 0,
          contentType: contentTypeOf(response),
          body: Buffer.concat(chunks).toString('utf8'),
          ...(error === undefined ? {} : { error }),
        });
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => finish(answer()));
        response.on('error', (error) => finish(answer(`the answer broke off: ${error.message}`)));
        response.on('aborted', () => finish(answer('the answer broke off (aborted)')));
        if (watch && response.statusCode === 200) setTimeout(() => finish(answer()), this.watchReadMs);
      });
      const deadline = setTimeout(() => finish({ code: 0, contentType: '', body: '', error: `no answer within ${this.deadlineMs} ms (a hang)` }), this.deadlineMs);
      request.on('error', (error) => {
        // A server may answer before it has read a large body and close (Go's does too): the
        // client's write then fails, and the answer's own end or breaking off decides.
        if (!answered) finish({ code: 0, contentType: '', body: '', error: `connection dropped: ${error.message}` });
      });
      request.end(body);
    });
  }
}

function contentTypeOf(response: IncomingMessage): string {
  return response.headers['content-type'] ?? '';
}

/** Whether an HTTP answer keeps the contract (see ApiServerSubject). */
export function judgeHttp(fuzzCase: Pick<ApiCase, 'method' | 'malformedTarget' | 'futureResourceVersion' | 'operation'>, outcome: HttpOutcome): FuzzAnswer {
  const base = { code: outcome.code, details: outcome.body.slice(0, 300), succeeded: outcome.code >= 200 && outcome.code < 300 };
  if (outcome.error !== undefined) return { ...base, succeeded: false, problem: `${outcome.error}${outcome.code === 0 ? '' : ` (after status ${outcome.code})`}` };
  if (outcome.code < 400) return base;
  if (fuzzCase.malformedTarget && outcome.code === 400 && outcome.contentType.startsWith('text/plain') && outcome.body === '400 Bad Request') return base;
  let status: Record<string, unknown>;
  try {
    status = JSON.parse(outcome.body) as Record<string, unknown>;
  } catch {
    return { ...base, problem: `status ${outcome.code} without a JSON Status (${outcome.contentType}): ${JSON.stringify(outcome.body.slice(0, 200))}` };
  }
  const wrong: string[] = [];
  if (!outcome.contentType.startsWith('application/json')) wrong.push(`content type ${JSON.stringify(outcome.contentType)}`);
  if (status['kind'] !== 'Status') wrong.push(`kind ${JSON.stringify(status['kind'])}`);
  if (status['apiVersion'] !== 'v1') wrong.push(`apiVersion ${JSON.stringify(status['apiVersion'])}`);
  if (status['status'] !== 'Failure') wrong.push(`status ${JSON.stringify(status['status'])}`);
  if (typeof status['reason'] !== 'string' || (status['reason'] === '' && !plainPatchError(fuzzCase, outcome.code))) wrong.push('no reason');
  if (status['code'] !== outcome.code) wrong.push(`code ${JSON.stringify(status['code'])}`);
  const details = `${String(status['reason'])}: ${String(status['message'])}`;
  if (wrong.length > 0) return { ...base, details, problem: `status ${outcome.code} with a malformed Status (${wrong.join(', ')}): ${outcome.body.slice(0, 200)}` };
  if (outcome.code >= 500 && !upstreamServerError(fuzzCase, outcome.code, status['reason'], status['message'])) {
    return { ...base, details, problem: `server error ${outcome.code} ${details}` };
  }
  return { ...base, details };
}

/**
 * kube-apiserver's patch handler passes some errors of the patch code through as plain Go errors
 * (interpretStrategicMergePatchError's default: an unknown `$patch` directive, a list item without
 * its merge key), and ErrorToAPIStatus answers a plain error with 500 and StatusReasonUnknown, an
 * empty reason. k8ts mirrors that (apimachinery's patchErrors.internal).
 */
function plainPatchError(fuzzCase: Pick<ApiCase, 'method'>, code: number): boolean {
  return fuzzCase.method === 'PATCH' && code === 500;
}

/** The 5xx answers kube-apiserver itself gives for these requests (see ApiServerSubject). */
function upstreamServerError(fuzzCase: Pick<ApiCase, 'futureResourceVersion' | 'operation' | 'method'>, code: number, reason: unknown, message: unknown): boolean {
  if (code === 500 && reason === '' && typeof message === 'string' && message !== '' && plainPatchError(fuzzCase, code)) return true;
  if (code === 503 && reason === 'ServiceUnavailable' && / log /.test(` ${fuzzCase.operation} `)) return true;
  return code === 504 && reason === 'Timeout' && fuzzCase.futureResourceVersion;
}
