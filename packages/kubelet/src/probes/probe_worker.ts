import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import type { Clock, TimerHandle } from '@k8ts/base';
import type { ExecSync } from './exec_probe.js';
import { ProbeError, type ProbeOutcome } from './probe_result.js';
import { probeTiming, runProbe, type ProbeTarget, type ProbeTiming } from './run_probe.js';

/**
 * One probe of one container instance, as upstream's prober worker: the first probe runs at once,
 * then one every periodSeconds (a probe that overruns its period is followed at once by the next);
 * none before initialDelaySeconds have passed since the container started; liveness and readiness
 * wait until the container has started (its startup probe passed); the result changes only after
 * successThreshold successes or failureThreshold failures in a row; after a liveness or startup
 * failure the worker holds (the container is restarted, and a new container gets a new worker).
 */

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
/** Unknown: a startup probe that has not passed yet (the container has not started). */
export type ProbeResult = 'Success' | 'Failure' | 'Unknown';

export interface ProbeEvent {
  readonly type: 'Warning';
  /** Unhealthy for failures and errors, ProbeWarning for a redirect that was not followed. */
  readonly reason: 'Unhealthy' | 'ProbeWarning';
  /** e.g. `Readiness probe failed: HTTP probe failed with statuscode: 500`. */
  readonly message: string;
}

export interface ProbeWorkerOptions {
  readonly kind: ProbeKind;
  readonly probe: Probe;
  readonly container: Container;
  readonly containerId: string;
  readonly podIP: string;
  readonly execSync: ExecSync;
  readonly clock: Clock;
  /** When the container started, on `clock` (default: when the worker is made). */
  readonly startedAtMs?: number;
  /** For liveness and readiness: whether the container has started (default: it has). */
  readonly started?: () => boolean;
  /** Told when the result changes (after the thresholds). */
  readonly onResult: (result: ProbeResult) => void;
  readonly onEvent?: (event: ProbeEvent) => void;
  /** Runs the handler once (default: runProbe); tests inject outcomes. */
  readonly run?: (probe: Probe, target: ProbeTarget) => Promise<ProbeOutcome>;
}

/** The result a new container starts with, as upstream's results managers: ready only after a pass, live until a failure. */
export const INITIAL_RESULT: Readonly<Record<ProbeKind, ProbeResult>> = { readiness: 'Failure', liveness: 'Success', startup: 'Unknown' };

const KIND_NAMES: Readonly<Record<ProbeKind, string>> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

export class ProbeWorker {
  readonly timing: ProbeTiming;
  private current: ProbeResult;
  private lastOutcome: 'Success' | 'Failure' | undefined;
  private run = 0;
  private onHold = false;
  private stopped = true;
  private probing = false;
  private nextDueMs = 0;
  private timer: TimerHandle | undefined;
  private readonly startedAtMs: number;

  constructor(private readonly options: ProbeWorkerOptions) {
    this.timing = probeTiming(options.probe);
    this.current = INITIAL_RESULT[options.kind];
    this.startedAtMs = options.startedAtMs ?? options.clock.now();
  }

  get kind(): ProbeKind {
    return this.options.kind;
  }

  get result(): ProbeResult {
    return this.current;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.nextDueMs = this.options.clock.now();
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Probes now, out of turn (upstream's manual trigger: readiness once the startup probe passed). */
  trigger(): void {
    if (this.stopped || this.probing) return;
    this.timer?.cancel();
    this.tick();
  }

  /**
   * The pod is being deleted: liveness and startup stop and count as passing (a container in its
   * grace period is not restarted), as upstream.
   */
  terminating(): void {
    if (this.options.kind === 'readiness') return;
    this.stop();
    this.setResult('Success');
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.options.clock.schedule(delayMs, () => this.tick());
  }

  private tick(): void {
    if (this.stopped) return;
    const period = this.timing.periodSeconds * 1000;
    const now = this.options.clock.now();
    while (this.nextDueMs <= now) this.nextDueMs += period;
    this.probing = true;
    this.probeOnce()
      .catch(() => undefined) // probeOnce handles its errors; nothing may escape a timer
      .finally(() => {
        this.probing = false;
        this.schedule(Math.max(0, this.nextDueMs - this.options.clock.now()));
      });
  }

  private async probeOnce(): Promise<void> {
    if (this.onHold) return;
    const { clock, kind } = this.options;
    if (Math.floor((clock.now() - this.startedAtMs) / 1000) < this.timing.initialDelaySeconds) return;
    if (kind === 'startup' ? this.current === 'Success' : this.options.started?.() === false) return;

    const target: ProbeTarget = { container: this.options.container, containerId: this.options.containerId, podIP: this.options.podIP, execSync: this.options.execSync };
    let outcome: ProbeOutcome;
    try {
      outcome = await (this.options.run ?? runProbe)(this.options.probe, target);
    } catch (error) {
      const message = error instanceof ProbeError || error instanceof Error ? error.message : String(error);
      this.event('Unhealthy', `${KIND_NAMES[kind]} probe errored and resulted in unknown state: ${message}`);
      return; // upstream throws an errored probe's result away
    }
    if (this.stopped) return;
    if (outcome.result === 'Warning') this.event('ProbeWarning', `${KIND_NAMES[kind]} probe warning: ${outcome.output}`);
    if (outcome.result === 'Failure') this.event('Unhealthy', `${KIND_NAMES[kind]} probe failed: ${outcome.output}`);

    const result = outcome.result === 'Failure' ? 'Failure' : 'Success';
    this.run = this.lastOutcome === result ? this.run + 1 : 1;
    this.lastOutcome = result;
    const threshold = result === 'Failure' ? this.timing.failureThreshold : this.timing.successThreshold;
    if (this.run < threshold) return;
    this.setResult(result);
    if (result === 'Failure' && kind !== 'readiness') {
      this.onHold = true;
      this.run = 0;
    }
  }

  private setResult(result: ProbeResult): void {
    if (result === this.current) return;
    this.current = result;
    this.options.onResult(result);
  }

  private event(reason: ProbeEvent['reason'], message: string): void {
    this.options.onEvent?.({ type: 'Warning', reason, message });
  }
}
