/**
 * @k8ts/chaos: chaos runs against a running k8ts cluster — a seeded fault schedule, a target that
 * puts faults in place (the local cluster's processes; a compose target fits the same interface),
 * a workload that records what its users saw, checkers of the invariants, and reports.
 */
export { analyseFaults, isWhole, percentile, summariseByKind, type FaultOutcome, type KindSummary } from './analysis.js';
export {
  checkDeploymentRecovered,
  checkLinearizable,
  checkNoLostWrites,
  checkNoPodTwice,
  checkProcessesUp,
  type CheckVerdict,
  type FinalRead,
  type PodPlacementSample,
  type ReplicaSample,
} from './checks.js';
export { chaosCommand } from './command.js';
export { clearLinkFaults, heal, inject } from './faults.js';
export { ComposeTarget } from './compose_target.js';
export { LocalTarget } from './local_target.js';
export { buildReport, formatText, type ChaosReport } from './report.js';
export { renderHtml, timelineSvg } from './report_html.js';
export { runChaos, type ChaosRunOptions } from './run.js';
export { DEFAULT_FAULT_KINDS, FAULT_KINDS, LEADER_ROLES, NODE_LOSS_MS, applicableKinds, faultSchedule, parseDuration, parseFaultKinds, type FaultKind, type ScheduledFault, type ScheduleOptions, type ScheduleParts } from './schedule.js';
export type { ChaosTarget, TargetEndpoints } from './target.js';
export type { FaultRecord, HealthSample, RunRecord } from './timeline.js';
