import { analyseFaults, summariseByKind, type FaultOutcome, type KindSummary } from './analysis.js';
import type { CheckVerdict } from './checks.js';
import type { RunRecord } from './timeline.js';

/** The report of a run: what `--json` prints, and what the text and HTML forms show. */
export interface ChaosReport {
  /** Every check passed and every fault could be put in place and healed. */
  readonly ok: boolean;
  readonly target: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: readonly FaultOutcome[];
  readonly byKind: readonly KindSummary[];
  readonly checks: readonly CheckVerdict[];
  readonly requests: {
    /** Through a node port, from this machine. */
    readonly service: { readonly total: number; readonly failed: number };
    /** Through the cluster IP, from a pod on each node. */
    readonly serviceClusterIp: { readonly total: number; readonly failed: number };
    /** The pods that answered either. */
    readonly answeredBy: number;
    readonly storeWrites: { readonly total: number; readonly failed: number; readonly unknown: number };
    readonly storeReads: { readonly total: number; readonly failed: number };
  };
}

export function buildReport(run: RunRecord): ChaosReport {
  const faults = analyseFaults(run);
  const writes = run.history.filter((op) => op.kind === 'write');
  const reads = run.history.filter((op) => op.kind === 'read');
  const faultErrors = faults.filter((fault) => fault.error !== undefined);
  const checks = faultErrors.length === 0 ? run.checks : [...run.checks, { name: 'every fault put in place and healed', ok: false, detail: faultErrors.map((fault) => `${fault.kind} ${fault.target}: ${fault.error ?? ''}`).join('\n') }];
  return {
    ok: checks.every((check) => check.ok),
    target: run.target,
    seed: run.seed,
    durationMs: run.durationMs,
    faults,
    byKind: summariseByKind(faults),
    checks,
    requests: {
      service: count(run.probes.filter((probe) => probe.via !== 'cluster-ip')),
      serviceClusterIp: count(run.probes.filter((probe) => probe.via === 'cluster-ip')),
      answeredBy: new Set(run.probes.flatMap((probe) => (probe.answeredBy === undefined ? [] : [probe.answeredBy]))).size,
      storeWrites: { total: writes.length, failed: writes.filter((op) => op.outcome === 'fail').length, unknown: writes.filter((op) => op.outcome === 'unknown').length },
      storeReads: { total: reads.length, failed: reads.filter((op) => op.outcome !== 'ok').length },
    },
  };
}

const count = (probes: readonly { readonly ok: boolean }[]): { total: number; failed: number } => ({ total: probes.length, failed: probes.filter((probe) => !probe.ok).length });

const seconds = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);

export function formatText(report: ChaosReport): string {
  const lines: string[] = [];
  lines.push(`k8ts chaos: ${report.target}, seed ${report.seed}, ${report.durationMs / 1000} s of faults`);
  lines.push('');
  lines.push('timeline (s)   fault                              part                      detected   recovered  failed/requests  first symptom');
  for (const fault of report.faults) {
    lines.push(
      [
        `${(fault.injectedAtMs / 1000).toFixed(1).padStart(6)}-${fault.healedAtMs === undefined ? '   ?  ' : (fault.healedAtMs / 1000).toFixed(1).padEnd(6)}`,
        `${fault.kind}${fault.target === fault.part ? '' : ` (${fault.target})`}`.padEnd(34),
        (fault.part ?? '?').padEnd(25),
        seconds(fault.detectionMs).padEnd(10),
        (fault.error !== undefined ? 'ERROR' : fault.recoveryMs === undefined ? 'not seen' : seconds(fault.recoveryMs)).padEnd(10),
        `${fault.requestsFailed}/${fault.requestsTotal}`.padEnd(16),
        [fault.error ?? fault.detectedBy ?? '—', ...(fault.notRecoveredBecause === undefined ? [] : [`(not whole: ${fault.notRecoveredBecause})`])].join(' '),
      ].join(' '),
    );
  }
  if (report.faults.length === 0) lines.push('  (no fault fit in the duration)');
  lines.push('');
  lines.push('per kind       faults  recovered  detection p50/p99      recovery p50/p99       requests failed');
  for (const kind of report.byKind) {
    lines.push(
      `${kind.kind.padEnd(32)} ${String(kind.faults).padStart(3)} ${String(kind.recovered).padStart(6)}     ${seconds(kind.detectionP50Ms)} / ${seconds(kind.detectionP99Ms)}`.padEnd(80) +
        `${seconds(kind.recoveryP50Ms)} / ${seconds(kind.recoveryP99Ms)}`.padEnd(24) +
        String(kind.requestsFailed),
    );
  }
  const { service, serviceClusterIp, answeredBy, storeWrites, storeReads } = report.requests;
  lines.push('');
  lines.push(`requests: Service ${service.failed}/${service.total} failed by node port, ${serviceClusterIp.failed}/${serviceClusterIp.total} by cluster IP from pods (${answeredBy} pods answered); store writes ${storeWrites.failed} failed and ${storeWrites.unknown} unanswered of ${storeWrites.total}; store reads ${storeReads.failed}/${storeReads.total} failed`);
  lines.push('');
  lines.push('checks');
  for (const check of report.checks) lines.push(`  ${check.ok ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail.split('\n').join('\n        ')}`);
  lines.push('');
  lines.push(report.ok ? 'verdict: PASS' : 'verdict: FAIL');
  return lines.join('\n');
}
