import type { Container, ContainerStateTerminated, ContainerStatus, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { FIELD_DOCS } from './descriptions.js';
import { AGE_COLUMN, NAME_COLUMN, column } from './format.js';
import { humanDuration, timeSince } from './human_duration.js';
import type { Printer, TableCell, TableRowCondition } from './types.js';

/** NAME READY STATUS RESTARTS AGE | wide: IP NODE NOMINATED NODE READINESS GATES */
export const podPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE_COLUMN,
    column('IP', 'string', FIELD_DOCS.podIP, { wide: true }),
    column('Node', 'string', FIELD_DOCS.nodeName, { wide: true }),
    column('Nominated Node', 'string', FIELD_DOCS.nominatedNodeName, { wide: true }),
    column('Readiness Gates', 'string', FIELD_DOCS.readinessGates, { wide: true }),
  ],
  cells: (object, now) => podCells(object as Pod, now),
  conditions: (object) => podConditions(object as Pod),
};

function podCells(pod: Pod, now: Date): TableCell[] {
  const summary = summarizePod(pod);
  const { lastRestartMs } = summary;
  const restarts =
    summary.restarts !== 0 && lastRestartMs !== undefined
      ? `${summary.restarts} (${humanDuration(now.getTime() - lastRestartMs)} ago)`
      : String(summary.restarts);
  const status = pod.status ?? {};
  return [
    pod.metadata?.name ?? '',
    `${summary.readyContainers}/${summary.totalContainers}`,
    summary.reason,
    restarts,
    timeSince(pod.metadata?.creationTimestamp, now),
    orNone(status.podIPs?.[0]?.ip ?? status.podIP),
    orNone(pod.spec?.nodeName),
    orNone(status.nominatedNodeName),
    readinessGates(pod),
  ];
}

function podConditions(pod: Pod): TableRowCondition[] | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded') return [completed('Succeeded', 'The pod has completed successfully.')];
  if (phase === 'Failed') return [completed('Failed', 'The pod failed.')];
  return undefined;
}

function completed(reason: string, message: string): TableRowCondition {
  return { type: 'Completed', status: 'True', reason, message };
}

interface PodSummary {
  reason: string;
  readyContainers: number;
  totalContainers: number;
  restarts: number;
  /** When a container last terminated before restarting (ms since the epoch), if known. */
  lastRestartMs: number | undefined;
}

/** Restarts and the latest restart time, accumulated over container statuses. */
class RestartTally {
  count = 0;
  lastMs: number | undefined = undefined;

  add(status: ContainerStatus): void {
    this.count += status.restartCount ?? 0;
    const finishedAt = status.lastState?.terminated?.finishedAt;
    const finishedMs = finishedAt === undefined ? Number.NaN : Date.parse(finishedAt);
    if (!Number.isNaN(finishedMs) && (this.lastMs === undefined || finishedMs > this.lastMs)) this.lastMs = finishedMs;
  }
}

/**
 * The READY, STATUS and RESTARTS of a pod as kube-apiserver's printPod works them out: the phase (or
 * status.reason), overridden by the first unfinished init container ("Init:1/2", "Init:CrashLoopBackOff"),
 * else by the app containers' waiting/terminated reasons, then "Terminating" once deletion started.
 */
export function summarizePod(pod: Pod): PodSummary {
  const status = pod.status ?? {};
  const initContainers = pod.spec?.initContainers ?? [];
  const sidecars = new Set(initContainers.filter(isRestartable).map((container) => container.name));
  const summary: PodSummary = {
    reason: initialReason(status),
    readyContainers: 0,
    totalContainers: (pod.spec?.containers?.length ?? 0) + sidecars.size,
    restarts: 0,
    lastRestartMs: undefined,
  };
  const all = new RestartTally();
  const sidecarOnly = new RestartTally();
  let initializing = false;
  for (const [index, container] of (status.initContainerStatuses ?? []).entries()) {
    all.add(container);
    const sidecar = sidecars.has(container.name);
    if (sidecar) sidecarOnly.add(container);
    const terminated = container.state?.terminated;
    if (terminated !== undefined && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && container.started === true) {
      if (container.ready) summary.readyContainers += 1;
      continue;
    }
    summary.reason = initReason(container, index, initContainers.length);
    initializing = true;
    break;
  }
  let tally = all;
  if (!initializing || hasCondition(status, 'Initialized')) {
    tally = sidecarOnly;
    applyContainerStatuses(summary, status, tally);
  }
  summary.restarts = tally.count;
  summary.lastRestartMs = tally.lastMs;
  summary.reason = deletionReason(pod, summary.reason);
  return summary;
}

function initialReason(status: PodStatus): string {
  let reason = status.reason !== undefined && status.reason !== '' ? status.reason : (status.phase ?? '');
  const gated = (status.conditions ?? []).some(
    (condition) => condition.type === 'PodScheduled' && condition.reason === 'SchedulingGated',
  );
  if (gated) reason = 'SchedulingGated';
  return reason;
}

/** Why initialization is stuck at this init container. */
function initReason(container: ContainerStatus, index: number, initCount: number): string {
  const terminated = container.state?.terminated;
  if (terminated !== undefined) return `Init:${terminatedReason(terminated)}`;
  const waiting = container.state?.waiting?.reason;
  if (waiting !== undefined && waiting !== '' && waiting !== 'PodInitializing') return `Init:${waiting}`;
  return `Init:${index}/${initCount}`;
}

function terminatedReason(terminated: ContainerStateTerminated): string {
  if (terminated.reason !== undefined && terminated.reason !== '') return terminated.reason;
  if (terminated.signal !== undefined && terminated.signal !== 0) return `Signal:${terminated.signal}`;
  return `ExitCode:${terminated.exitCode ?? 0}`;
}

/** App containers, last to first, so the first container's state wins. */
function applyContainerStatuses(summary: PodSummary, status: PodStatus, tally: RestartTally): void {
  let hasRunning = false;
  for (const container of [...(status.containerStatuses ?? [])].reverse()) {
    tally.add(container);
    const waiting = container.state?.waiting?.reason;
    const terminated = container.state?.terminated;
    if (waiting !== undefined && waiting !== '') {
      summary.reason = waiting;
    } else if (terminated !== undefined) {
      summary.reason = terminatedReason(terminated);
    } else if (container.ready && container.state?.running !== undefined) {
      hasRunning = true;
      summary.readyContainers += 1;
    }
  }
  // A pod whose finished container says Completed while another still runs is not completed.
  if (summary.reason === 'Completed' && hasRunning) {
    summary.reason = hasCondition(status, 'Ready') ? 'Running' : 'NotReady';
  }
}

function deletionReason(pod: Pod, reason: string): string {
  if (pod.metadata?.deletionTimestamp === undefined) return reason;
  if (pod.status?.reason === 'NodeLost') return 'Unknown';
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' ? reason : 'Terminating';
}

/** A sidecar: an init container that restarts always and keeps running beside the app containers. */
function isRestartable(container: Container): boolean {
  return container.restartPolicy === 'Always';
}

function hasCondition(status: PodStatus, type: string): boolean {
  return (status.conditions ?? []).find((condition) => condition.type === type)?.status === 'True';
}

/** "1/2": how many readiness gates have a True condition, or "<none>". */
function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conditions = pod.status?.conditions ?? [];
  const passed = gates.filter(
    (gate) => conditions.find((condition) => condition.type === gate.conditionType)?.status === 'True',
  ).length;
  return `${passed}/${gates.length}`;
}

export function orNone(value: string | undefined): string {
  return value === undefined || value === '' ? '<none>' : value;
}
