import type { Operation } from '@k8ts/linearizability';
import { LEADER_ROLES, type FaultKind } from './schedule.js';
import type { FaultRecord, HealthSample, RunRecord } from './timeline.js';

/**
 * Each fault's time to detection and to recovery, from the run's record.
 *
 * - Detection: from the fault's start to the first symptom seen: a failed Service request or store
 *   operation, a Node not Ready, the API not answering, or a leader different from the one before
 *   the fault. None seen: undefined (a follower's death may go unnoticed by every client).
 * - Recovery: from the heal (restart, resume, back on the network) to the first monitor sample where
 *   everything is whole again: every process up, every Node Ready, the Deployment's ready replicas
 *   as desired (or one more, a rollout's surge), a leader for the store, the scheduler and the controller manager, and in the second before it, Service requests and store operations all answered.
 *   Not whole before the next fault (or the end): undefined.
 * - Requests failed: Service requests and store operations started between this fault's start and the
 *   next one's, that failed or got no answer.
 */

export interface FaultOutcome extends FaultRecord {
  readonly detectionMs?: number;
  readonly detectedBy?: string;
  readonly recoveryMs?: number;
  /** Not recovered: what the last look before the next fault (or the end) still found missing. */
  readonly notRecoveredBecause?: string;
  readonly requestsFailed: number;
  readonly requestsTotal: number;
}

/** Requests in this window before a sample must all have succeeded for the sample to count as whole. */
const WHOLE_WINDOW_MS = 1_000;

export function analyseFaults(run: RunRecord): FaultOutcome[] {
  return run.faults.map((fault, index) => {
    const windowEnd = run.faults[index + 1]?.injectedAtMs ?? run.endMs;
    const inWindow = (atMs: number): boolean => atMs >= fault.injectedAtMs && atMs < windowEnd;
    const probes = run.probes.filter((probe) => inWindow(probe.atMs));
    const operations = run.history.filter((op) => inWindow(op.invokedAt));
    const requestsFailed = probes.filter((probe) => !probe.ok).length + operations.filter((op) => op.outcome !== 'ok').length;
    const detection = firstSymptom(run, fault, windowEnd);
    const recoveredAt = fault.healedAtMs === undefined || fault.error !== undefined ? undefined : firstWhole(run, fault.healedAtMs, windowEnd);
    const lastSample = [...run.samples].reverse().find((sample) => sample.atMs < windowEnd);
    const stillBroken = recoveredAt === undefined && lastSample !== undefined ? notWhole(run, lastSample) : [];
    return {
      ...fault,
      ...(detection === undefined ? {} : { detectionMs: detection.atMs - fault.injectedAtMs, detectedBy: detection.what }),
      ...(recoveredAt === undefined || fault.healedAtMs === undefined ? {} : { recoveryMs: recoveredAt - fault.healedAtMs }),
      ...(stillBroken.length === 0 ? {} : { notRecoveredBecause: stillBroken.join(', ') }),
      requestsFailed,
      requestsTotal: probes.length + operations.length,
    };
  });
}

function firstSymptom(run: RunRecord, fault: FaultRecord, windowEnd: number): { atMs: number; what: string } | undefined {
  const candidates: { atMs: number; what: string }[] = [];
  const inWindow = (atMs: number): boolean => atMs >= fault.injectedAtMs && atMs < windowEnd;
  // A failure counts when the client saw it: sent after the fault began, and known before the next one.
  const probe = run.probes.find((p) => !p.ok && inWindow(p.atMs) && inWindow(p.doneAtMs));
  if (probe !== undefined) candidates.push({ atMs: probe.doneAtMs, what: `Service request ${probe.via === 'cluster-ip' ? `from a pod on ${probe.node}` : `to ${probe.node}`} failed (${probe.error ?? 'error'})` });
  const seenAt = (op: Operation): number => op.completedAt ?? op.invokedAt;
  const operation = run.history.find((op) => op.outcome !== 'ok' && inWindow(op.invokedAt) && inWindow(seenAt(op)));
  if (operation !== undefined) candidates.push({ atMs: seenAt(operation), what: `store ${operation.kind} ${operation.outcome === 'fail' ? 'failed' : 'got no answer'}` });
  const before = [...run.samples].reverse().find((sample) => sample.atMs < fault.injectedAtMs);
  for (const sample of run.samples) {
    if (!inWindow(sample.atMs)) continue;
    if (sample.nodesReady === undefined) candidates.push({ atMs: sample.atMs, what: 'API did not answer' });
    else if (sample.nodesTotal !== undefined && sample.nodesReady < sample.nodesTotal) candidates.push({ atMs: sample.atMs, what: 'a Node not Ready' });
    for (const [role, leader] of Object.entries(sample.leaders)) {
      const previous = before?.leaders[role];
      if (previous !== undefined && leader !== undefined && leader !== previous) candidates.push({ atMs: sample.atMs, what: `${role} moved from ${previous} to ${leader}` });
    }
  }
  return candidates.sort((a, b) => a.atMs - b.atMs)[0];
}

/** What keeps the cluster from being whole in this sample (see the module's comment); none: whole. */
export function notWhole(run: Pick<RunRecord, 'probes' | 'history'>, sample: HealthSample): string[] {
  const reasons: string[] = [];
  if (sample.processesUp < sample.processesTotal) reasons.push(`${sample.processesTotal - sample.processesUp} process(es) down`);
  if (sample.nodesReady === undefined) reasons.push('API did not answer');
  else if (sample.nodesReady !== sample.nodesTotal) reasons.push(`${sample.nodesReady}/${sample.nodesTotal ?? '?'} Nodes Ready`);
  if (sample.desired === undefined) reasons.push('Deployment not read');
  else if (sample.ready === undefined || sample.ready < sample.desired) reasons.push(`${sample.ready ?? '?'}/${sample.desired} replicas ready`);
  for (const role of Object.values(LEADER_ROLES)) if (sample.leaders[role] === undefined) reasons.push(`no ${role}`);
  const recent = (atMs: number): boolean => atMs > sample.atMs - WHOLE_WINDOW_MS && atMs <= sample.atMs;
  const probes = run.probes.filter((probe) => recent(probe.atMs));
  const operations = run.history.filter((op) => recent(op.invokedAt) && op.completedAt !== undefined && op.completedAt <= sample.atMs);
  if (run.probes.length > 0 && !(probes.length > 0 && probes.every((probe) => probe.ok))) reasons.push('Service requests failing');
  if (run.history.length > 0 && !(operations.length > 0 && operations.every((op) => op.outcome === 'ok'))) reasons.push('store operations failing');
  return reasons;
}

export function isWhole(run: Pick<RunRecord, 'probes' | 'history'>, sample: HealthSample): boolean {
  return notWhole(run, sample).length === 0;
}

function firstWhole(run: RunRecord, fromMs: number, toMs: number): number | undefined {
  return run.samples.find((sample) => sample.atMs >= fromMs && sample.atMs < toMs && isWhole(run, sample))?.atMs;
}

/** The nearest-rank percentile (p in 0..100) of the values; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface KindSummary {
  readonly kind: FaultKind;
  readonly faults: number;
  readonly recovered: number;
  readonly detectionP50Ms?: number;
  readonly detectionP99Ms?: number;
  readonly recoveryP50Ms?: number;
  readonly recoveryP99Ms?: number;
  readonly requestsFailed: number;
}

export function summariseByKind(outcomes: readonly FaultOutcome[]): KindSummary[] {
  const kinds = [...new Set(outcomes.map((outcome) => outcome.kind))];
  return kinds.map((kind) => {
    const ofKind = outcomes.filter((outcome) => outcome.kind === kind);
    const detections = ofKind.flatMap((outcome) => (outcome.detectionMs === undefined ? [] : [outcome.detectionMs]));
    const recoveries = ofKind.flatMap((outcome) => (outcome.recoveryMs === undefined ? [] : [outcome.recoveryMs]));
    const defined = (name: string, value: number | undefined): Record<string, number> => (value === undefined ? {} : { [name]: value });
    return {
      kind,
      faults: ofKind.length,
      recovered: recoveries.length,
      ...defined('detectionP50Ms', percentile(detections, 50)),
      ...defined('detectionP99Ms', percentile(detections, 99)),
      ...defined('recoveryP50Ms', percentile(recoveries, 50)),
      ...defined('recoveryP99Ms', percentile(recoveries, 99)),
      requestsFailed: ofKind.reduce((sum, outcome) => sum + outcome.requestsFailed, 0),
    };
  });
}
