/**
 * A backend pool with active health checks, as HAProxy's `check` (and kube-vip's) run them in front
 * of API servers: each backend gets an HTTP GET of `healthPath` every `intervalMs`, answered within
 * `timeoutMs` by a 2xx or 3xx status (HAProxy's `option httpchk` rule) or it counts as a failure.
 *
 * Contract:
 * - A backend starts up (HAProxy's default `init-state up`): until its first check it gets traffic,
 *   and that first check, failing, takes it down at once. After that, `failureThreshold`
 *   consecutive failures take an up backend down (HAProxy's `fall`) and `successThreshold`
 *   consecutive successes bring a down one back (`rise`).
 * - Each backend is checked on its own timer: the next check starts `intervalMs` after the last one
 *   ended, so checks of one backend never overlap and a slow backend never delays another's.
 * - `pick` is a TcpProxy PickBackend: round robin over the backends up now, skipping the ones this
 *   connection already failed on; none up → undefined (the proxy resets the client, as HAProxy
 *   closes a connection with no server available).
 * - Time (intervals and check timeouts) comes from the Clock; a check is a real HTTP request on a
 *   fresh connection, so a FakeClock test drives the timers and real servers answer.
 */
import { request } from 'node:http';
import { invariant, realClock, type Clock, type TimerHandle } from '@k8ts/base';
import { pino, type Logger } from 'pino';
import { formatBackend, type Backend, type PickBackend } from './backend.js';
import { roundRobin, type Balancer } from './balancers.js';

export interface HealthCheckedPoolOptions {
  readonly backends: readonly Backend[];
  /** The path each check GETs; default '/readyz' (the API server's readiness). */
  readonly healthPath?: string;
  /** From the end of one check of a backend to the start of its next; default 2000 (HAProxy's `inter`). */
  readonly intervalMs?: number;
  /** How long a check may take, connect to status line; default `intervalMs` (HAProxy's fallback). */
  readonly timeoutMs?: number;
  /** Consecutive failures that take an up backend down; default 3 (HAProxy's `fall`). */
  readonly failureThreshold?: number;
  /** Consecutive successes that bring a down backend back; default 2 (HAProxy's `rise`). */
  readonly successThreshold?: number;
  /** Called after every check (for metrics), once the backend's status reflects it. */
  readonly onCheck?: (status: BackendHealth, result: CheckResult) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export const DEFAULT_HEALTH_PATH = '/readyz';
export const DEFAULT_HEALTH_INTERVAL_MS = 2_000;
export const DEFAULT_FAILURE_THRESHOLD = 3;
export const DEFAULT_SUCCESS_THRESHOLD = 2;

/** One check's outcome: `ok`, or why not (the status answered, a timeout, a connection error). */
export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** What the pool knows of one backend now. */
export interface BackendHealth {
  readonly backend: Backend;
  readonly up: boolean;
  /** Checks finished so far. */
  readonly checks: number;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  /** The last check's outcome; undefined before the first. */
  readonly lastResult: CheckResult | undefined;
}

interface Checked {
  readonly backend: Backend;
  up: boolean;
  checks: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastResult: CheckResult | undefined;
  timer: TimerHandle | undefined;
  inFlight: Promise<void> | undefined;
  abort: AbortController | undefined;
}

export class HealthCheckedPool {
  /** Round robin over the backends up now; hand it to TcpProxy as `pickBackend`. */
  readonly pick: PickBackend;
  private readonly checked: Checked[];
  private readonly balancer: Balancer;
  private readonly healthPath: string;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly failureThreshold: number;
  private readonly successThreshold: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private running = false;

  constructor(private readonly options: HealthCheckedPoolOptions) {
    this.healthPath = options.healthPath ?? DEFAULT_HEALTH_PATH;
    this.intervalMs = options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
    this.timeoutMs = options.timeoutMs ?? this.intervalMs;
    this.failureThreshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    this.successThreshold = options.successThreshold ?? DEFAULT_SUCCESS_THRESHOLD;
    invariant(options.backends.length > 0, 'a health-checked pool needs at least one backend');
    invariant(this.healthPath.startsWith('/'), `the health path must start with /, got ${this.healthPath}`);
    invariant(this.intervalMs > 0 && this.timeoutMs > 0, `health check interval and timeout must be positive (got ${this.intervalMs} ms, ${this.timeoutMs} ms)`);
    for (const threshold of [this.failureThreshold, this.successThreshold]) {
      invariant(Number.isInteger(threshold) && threshold > 0, `health check thresholds must be positive integers, got ${threshold}`);
    }
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.checked = options.backends.map((backend) => ({
      backend,
      up: true,
      checks: 0,
      // As HAProxy's init-state up: one failure away from down until the first check has passed.
      consecutiveFailures: this.failureThreshold - 1,
      consecutiveSuccesses: 0,
      lastResult: undefined,
      timer: undefined,
      inFlight: undefined,
      abort: undefined,
    }));
    this.balancer = roundRobin(options.backends);
    this.pick = (client, context) => this.balancer.pick(client, context);
  }

  /** Starts checking: every backend's first check now, the next ones every interval after. */
  start(): void {
    invariant(!this.running, 'health-checked pool started twice');
    this.running = true;
    for (const entry of this.checked) this.check(entry);
  }

  /** Stops checking: no timer is left and checks in flight are aborted; resolves when they have ended. */
  async stop(): Promise<void> {
    this.running = false;
    for (const entry of this.checked) {
      entry.timer?.cancel();
      entry.timer = undefined;
      entry.abort?.abort();
    }
    await this.settled();
  }

  /** Resolves when the checks in flight now have ended and the pool reflects them. */
  async settled(): Promise<void> {
    await Promise.all(this.checked.map((entry) => entry.inFlight));
  }

  statuses(): BackendHealth[] {
    return this.checked.map((entry) => snapshot(entry));
  }

  /** The backends up now, in the order given. */
  healthy(): Backend[] {
    return this.checked.filter((entry) => entry.up).map((entry) => entry.backend);
  }

  private check(entry: Checked): void {
    entry.timer = undefined;
    if (!this.running) return;
    const abort = new AbortController();
    entry.abort = abort;
    entry.inFlight = probe(entry.backend, this.healthPath, this.timeoutMs, this.clock, abort.signal).then((result) => {
      entry.abort = undefined;
      entry.inFlight = undefined;
      // A check aborted by stop() says nothing about the backend.
      if (abort.signal.aborted && !this.running) return;
      this.record(entry, result);
      if (this.running) entry.timer = this.clock.schedule(this.intervalMs, () => this.check(entry));
    });
  }

  private record(entry: Checked, result: CheckResult): void {
    entry.checks += 1;
    entry.lastResult = result;
    if (result.ok) {
      entry.consecutiveSuccesses += 1;
      entry.consecutiveFailures = 0;
    } else {
      entry.consecutiveFailures += 1;
      entry.consecutiveSuccesses = 0;
    }
    const was = entry.up;
    if (entry.up && entry.consecutiveFailures >= this.failureThreshold) entry.up = false;
    if (!entry.up && entry.consecutiveSuccesses >= this.successThreshold) entry.up = true;
    if (entry.up !== was) {
      this.balancer.setBackends(this.healthy());
      const fields = { backend: formatBackend(entry.backend), path: this.healthPath, detail: result.detail, healthy: this.healthy().length, backends: this.checked.length };
      if (entry.up) this.logger.info(fields, 'backend up');
      else this.logger.warn(fields, 'backend down');
    }
    try {
      this.options.onCheck?.(snapshot(entry), result);
    } catch (error) {
      this.logger.error({ err: error }, 'health check observer threw');
    }
  }
}

function snapshot(entry: Checked): BackendHealth {
  const { backend, up, checks, consecutiveFailures, consecutiveSuccesses, lastResult } = entry;
  return { backend, up, checks, consecutiveFailures, consecutiveSuccesses, lastResult };
}

/**
 * One HTTP GET on a connection of its own (no keep-alive: each check proves the backend still
 * accepts connections). Never rejects: every failure is a result.
 */
function probe(backend: Backend, path: string, timeoutMs: number, clock: Clock, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: CheckResult): void => {
      if (done) return;
      done = true;
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      outgoing.destroy();
      resolve(result);
    };
    const outgoing = request({ host: backend.host, port: backend.port, path, method: 'GET', agent: false, headers: { 'user-agent': 'k8ts-api-lb health check' } }, (response) => {
      const status = response.statusCode ?? 0;
      response.resume(); // the body is not needed; the status line decides
      finish({ ok: status >= 200 && status < 400, detail: `HTTP ${status}` });
    });
    const timer = clock.schedule(timeoutMs, () => finish({ ok: false, detail: `no answer within ${timeoutMs} ms` }));
    const onAbort = (): void => finish({ ok: false, detail: 'check stopped' });
    signal.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, detail: error.code ?? error.message }));
    outgoing.end();
  });
}
