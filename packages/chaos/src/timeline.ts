import type { Operation } from '@k8ts/linearizability';
import type { CheckVerdict } from './checks.js';
import type { FaultKind, ScheduledFault } from './schedule.js';
import type { ProbeResult } from './service_prober.js';

/** What a chaos run recorded, every time in milliseconds since the run started. */

export interface FaultRecord {
  readonly kind: FaultKind;
  /** As scheduled: a part or a leader role. */
  readonly target: string;
  /** The part it hit (a role resolved when the fault started). */
  part?: string;
  readonly injectedAtMs: number;
  healedAtMs?: number;
  /** The fault could not be put in place or healed. */
  error?: string;
}

/** One look at the whole cluster by the run's monitor. */
export interface HealthSample {
  readonly atMs: number;
  readonly processesUp: number;
  readonly processesTotal: number;
  /** Undefined when the API did not answer. */
  readonly nodesReady?: number;
  readonly nodesTotal?: number;
  readonly desired?: number;
  readonly ready?: number;
  /** Role → the part leading it. */
  readonly leaders: Readonly<Record<string, string | undefined>>;
}

export interface RunRecord {
  readonly target: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly schedule: readonly ScheduledFault[];
  readonly faults: readonly FaultRecord[];
  readonly samples: readonly HealthSample[];
  readonly probes: readonly ProbeResult[];
  readonly history: readonly Operation[];
  readonly scales: readonly { readonly atMs: number; readonly replicas: number }[];
  /** When the Deployment was rolled (`rollout restart`). */
  readonly rollouts?: readonly { readonly atMs: number }[];
  /** When the run stopped recording. */
  readonly endMs: number;
  readonly checks: readonly CheckVerdict[];
}
