import type { KneeResult } from './watch_knee.js';
import type { OpenLoopStop } from './apiserver_open_loop.js';
import type { ApiTestName } from './apiserver_options.js';
import type { MachineConditions } from './results.js';
import type { LatencySummary } from './stats.js';

/** CPU during a test, % of one core over its wall time (Linux /proc; absent fields are unknown). */
export interface ApiCpuUse {
  readonly loadGeneratorPercent: number;
  readonly apiserverPercent?: number;
  readonly storeMembersPercent?: number;
  /** The machine (all cores; 200% is a busy 2-core machine). */
  readonly machinePercent?: number;
  /** The machine less all of the above. */
  readonly otherProcessesPercent?: number;
}

/** One test's figures. For create/get/update the unit is requests; for watch, events delivered. */
export interface ApiTestResult {
  readonly name: ApiTestName;
  readonly description: string;
  readonly unit: 'requests' | 'events';
  /** The asked rate (requests or writes per second). */
  readonly ratePerSecond: number;
  readonly scheduled: number;
  readonly sent: number;
  readonly completed: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  /** Requests answered, or events delivered, per second. */
  readonly perSecond: number;
  /** Requests: due time → answer. Watch: write sent → event received by a watcher. */
  readonly latency: LatencySummary;
  /** Requests: actual send → answer (the closed-loop view of the same requests). */
  readonly serviceLatency: LatencySummary;
  readonly maxSendLagMs: number;
  readonly inFlightWaits: number;
  readonly stoppedBy: OpenLoopStop | 'time';
  readonly watch?: WatchFigures;
  /** watch-knee: every step, and the highest create rate delivery kept up with. */
  readonly knee?: KneeResult;
  readonly cpu?: ApiCpuUse;
}

export interface WatchFigures {
  readonly watchers: number;
  /** Watchers whose stream opened (HTTP 200) before the writes began. */
  readonly watchersOpened: number;
  readonly writes: number;
  readonly writesAcknowledged: number;
  /** Creates acknowledged per second, first create sent → last one answered. */
  readonly writesPerSecond: number;
  readonly writeLatency: LatencySummary;
  readonly eventsExpected: number;
  readonly eventsReceived: number;
  readonly eventsMissing: number;
  /** Events for the same object seen twice by one watcher, or of an unexpected type. */
  readonly eventsUnexpected: number;
  /** Watches the server ended before the test did. */
  readonly watchesEnded: number;
  /** Events delivered in each second from the first write. */
  readonly eventsPerSecondSeries: readonly number[];
  readonly setupMs: number;
}

export interface ApiTargetDescription {
  readonly server: string;
  /** How the apiserver and store were started, when this run started them. */
  readonly startedWith?: string;
  readonly storeEndpoints?: readonly string[];
  readonly dataDirFilesystem?: string;
  readonly namespace: string;
}

/** The machine and the run's settings, printed with every figure. */
export interface ApiConditions extends MachineConditions {
  readonly client: string;
  readonly valueSizeBytes: number;
  readonly requestBodyBytes: number;
  readonly ratePerSecond: number;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly maxInFlight: number;
  readonly warmupRequests: number;
  readonly requestTimeoutMs: number;
  readonly seed: number;
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | 'not measured';
}

export interface ApiServerBenchReport {
  readonly conditions: ApiConditions;
  readonly target: ApiTargetDescription;
  readonly warmup: { readonly requests: number; readonly failed: number; readonly errors: Readonly<Record<string, number>> };
  readonly tests: readonly ApiTestResult[];
  readonly targets: readonly TargetCheck[];
  /** What went wrong with the run or the processes it started. */
  readonly problems: readonly string[];
  /** Warning-or-worse lines of the started processes' logs, when there was trouble. */
  readonly logWarnings?: Readonly<Record<string, readonly string[]>>;
}

/** Exit status 1: a request failed, an event went missing or came wrong, or a process got into trouble. Targets never count. */
export function hasApiTrouble(report: ApiServerBenchReport): boolean {
  return (
    report.problems.length > 0 ||
    report.warmup.failed > 0 ||
    report.tests.some((test) => test.failed > 0 || (test.watch !== undefined && (test.watch.eventsMissing > 0 || test.watch.eventsUnexpected > 0)))
  );
}
