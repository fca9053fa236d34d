import type { StopReason } from './closed_loop.js';
import type { CpuUse } from './cpu.js';
import type { TestName } from './options.js';
import type { LatencySummary } from './stats.js';
import type { KneeResult } from './watch_knee.js';

/** One test's figures. `perSecond` counts `unit`s: writes, reads, or watch events delivered. */
export interface TestResult {
  readonly name: TestName;
  readonly description: string;
  readonly unit: 'writes' | 'reads' | 'events';
  readonly clients: number;
  readonly conns: number;
  /** Requests the test was asked to send, sent, answered, failed. */
  readonly requested: number;
  readonly sent: number;
  readonly completed: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Answers that break a promise of the etcd API (stale linearizable read, lost event, …). */
  readonly anomalies: AnomalyReport;
  readonly elapsedMs: number;
  readonly perSecond: number;
  /** Request latency; for watch, from sending the put to the event's arrival at a watcher. */
  readonly latency: LatencySummary;
  readonly stoppedBy: StopReason;
  /** Range tests: reads that found their key. */
  readonly readsFound?: number;
  readonly watch?: WatchDetails;
  /** watch-knee: every step, and the highest put rate delivery kept up with. */
  readonly knee?: KneeResult;
  /** CPU used during the test by this load generator and (when this run started them) the members. */
  readonly cpu?: CpuUse;
  /** The round the test ran in, counted from 1 (the suite runs every test `--rounds` times). */
  readonly round?: number;
  /** When the test began (ISO 8601): with --vs-etcd, shows the two clusters' tests interleaved. */
  readonly startedAt?: string;
}

export interface WatchDetails {
  readonly watchers: number;
  readonly streams: number;
  readonly putRatePerSecond: number;
  readonly puts: number;
  readonly putsAcknowledged: number;
  readonly putsPerSecond: number;
  readonly putLatency: LatencySummary;
  readonly eventsExpected: number;
  readonly eventsReceived: number;
  readonly eventsMissing: number;
  readonly setupMs: number;
}

export interface AnomalyReport {
  readonly count: number;
  /** The first few, described. */
  readonly samples: readonly string[];
}

export const MAX_ANOMALY_SAMPLES = 10;

/** Collects anomalies: counts all, keeps the first MAX_ANOMALY_SAMPLES descriptions. */
export class AnomalyLog {
  private readonly samples: string[] = [];
  count = 0;

  add(description: string): void {
    this.count += 1;
    if (this.samples.length < MAX_ANOMALY_SAMPLES) this.samples.push(description);
  }

  report(): AnomalyReport {
    return { count: this.count, samples: [...this.samples] };
  }
}

/** The machine a benchmark ran on, printed with every figure. */
export interface MachineConditions {
  readonly startedAt: string;
  readonly cpuCores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly loadAverage1m: number;
  readonly nodeVersion: string;
  readonly platform: string;
  readonly benchProcess: string;
}

/** The machine and the run's settings, printed with every figure. */
export interface Conditions extends MachineConditions {
  readonly keySizeBytes: number;
  readonly valueSizeBytes: number;
  readonly keySpaceSize: number;
  readonly keyOrder: 'random' | 'sequential';
  readonly seed: number;
  readonly warmupPuts: number;
  readonly rounds: number;
  readonly maxSecondsPerTest: number;
  readonly requestTimeoutMs: number;
}

export interface TargetDescription {
  readonly kind: 'k8ts' | 'etcd' | 'endpoints';
  readonly endpoints: readonly string[];
  /** 'all': clients spread over every endpoint; 'leader': every client on the leader. */
  readonly targetMode: 'all' | 'leader';
  /** The endpoints the clients used. */
  readonly usedEndpoints: readonly string[];
  /** Per endpoint: "3.4.23 leader=… db=…" from Maintenance.Status, or the error. */
  readonly members: readonly string[];
  /** How the members were started, when this run started them. */
  readonly startedWith?: string;
  readonly dataDirFilesystem?: string;
}

export interface SuiteReport {
  readonly target: TargetDescription;
  readonly warmup: WarmupReport;
  readonly tests: readonly TestResult[];
  /** What went wrong with the target itself: a member that exited, a run that failed. */
  readonly problems: readonly string[];
  /** Warnings and errors from the members' logs, when this run started them. */
  readonly memberLogWarnings?: Readonly<Record<string, readonly string[]>>;
}

export interface WarmupReport {
  readonly puts: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
}

export interface StoreBenchReport {
  readonly conditions: Conditions;
  readonly runs: readonly SuiteReport[];
  /** With --vs-etcd: k8ts/etcd per test and figure. */
  readonly ratios?: readonly TestRatios[];
}

export interface TestRatios {
  readonly name: TestName;
  readonly round?: number;
  /** k8ts ÷ etcd: throughput above 1 means k8ts is faster; latency above 1 means k8ts is slower. */
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}
