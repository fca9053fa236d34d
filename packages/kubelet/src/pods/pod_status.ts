/**
 * The pod's API status from what the runtime holds, as the kubelet's generateAPIPodStatus: container
 * statuses (state, lastState, restartCount, ready, started), the phase, and the conditions the kubelet
 * owns. Pure: everything it reads is passed in, so every rule is unit-tested with plain objects.
 */
import { formatTime } from '@k8ts/apimachinery';
import type {
  Container,
  ContainerState as ApiContainerState,
  ContainerStateTerminated,
  ContainerStatus as ApiContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from 'kubernetes-types/core/v1.js';
import type { ContainerStatus, PodSandboxStatus } from '../runtime/runtime.js';
import { containerNameOf } from './labels.js';

/** Why a container is not running, as the pod worker decided (CrashLoopBackOff, ErrImagePull, …). */
export interface WaitingReason {
  readonly reason: string;
  readonly message?: string;
}

/** Probe results of running containers, by runtime container id. */
export interface ProbeView {
  /** Readiness: true when it passes (or the container has no readiness probe and has started). */
  ready(container: Container, containerId: string): boolean;
  /** Startup: true when it passed (or the container has no startup probe). */
  started(container: Container, containerId: string): boolean;
}

export interface PodObservation {
  readonly pod: Pod;
  /** The pod's current sandbox, if any. */
  readonly sandbox: PodSandboxStatus | undefined;
  /** Every runtime container of the pod (all attempts, all sandboxes). */
  readonly containers: readonly ContainerStatus[];
  /** The worker's reasons for containers it could not (yet) start, by container name. */
  readonly waiting: ReadonlyMap<string, WaitingReason>;
  /** Termination messages read from terminationMessagePath (or the logs), by runtime container id. */
  readonly terminationMessages: ReadonlyMap<string, string>;
  readonly probes: ProbeView;
  readonly hostIPs: readonly string[];
  readonly nowMs: number;
  /** The pod will run nothing more (deleted, or its restart policy is done): its phase must be terminal. */
  readonly terminal: boolean;
}

/** Conditions the kubelet writes; every other condition in the API status is kept as it is. */
export const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'] as const;

export const CONTAINER_ID_SCHEME = 'k8ts://';

export function isSidecar(container: Container): boolean {
  return container.restartPolicy === 'Always';
}

/** The runtime containers of `name`, newest (highest attempt, then latest created) first. */
export function attemptsOf(containers: readonly ContainerStatus[], name: string): ContainerStatus[] {
  return containers
    .filter((container) => containerNameOf(container) === name)
    .sort((a, b) => b.attempt - a.attempt || b.createdAt.getTime() - a.createdAt.getTime());
}

export function computePodStatus(observation: PodObservation): PodStatus {
  const { pod } = observation;
  const spec = pod.spec ?? { containers: [] };
  const previous = pod.status ?? {};
  const initContainers = spec.initContainers ?? [];
  const initStatuses = initContainers.map((container) => containerStatus(observation, container, 'PodInitializing'));
  const initialized = initDone(initContainers, initStatuses);
  const regularDefault = initContainers.length > 0 && !initialized ? 'PodInitializing' : 'ContainerCreating';
  const statuses = spec.containers.map((container) => containerStatus(observation, container, regularDefault));
  const phase = podPhase(pod, initStatuses, statuses, observation.terminal);

  const sandboxReady = observation.sandbox?.state === 'ready';
  const podIPs = spec.hostNetwork ? [...observation.hostIPs] : [...(observation.sandbox?.ips ?? [])];
  const conditions = podConditions(observation, initContainers, initStatuses, statuses, phase, sandboxReady, initialized);
  const status: PodStatus = {
    ...previous,
    phase,
    conditions,
    startTime: previous.startTime ?? formatTime(observation.nowMs),
    containerStatuses: statuses,
  };
  if (observation.hostIPs.length > 0) {
    status.hostIP = observation.hostIPs[0]!;
    status.hostIPs = observation.hostIPs.map((ip) => ({ ip }));
  }
  if (podIPs.length > 0) {
    status.podIP = podIPs[0]!;
    status.podIPs = podIPs.map((ip) => ({ ip }));
  }
  if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
  else delete status.initContainerStatuses;
  return status;
}

function containerStatus(observation: PodObservation, container: Container, defaultWaiting: string): ApiContainerStatus {
  const [latest, before] = attemptsOf(observation.containers, container.name);
  const waiting = observation.waiting.get(container.name);
  const base = { name: container.name, image: container.image ?? '', imageID: latest?.imageRef ?? '', restartCount: latest?.attempt ?? 0 };
  const status: ApiContainerStatus = { ...base, ready: false, started: false, state: {} };
  if (latest === undefined) {
    status.state = { waiting: waitingState(waiting ?? { reason: defaultWaiting }) };
    return status;
  }
  status.containerID = CONTAINER_ID_SCHEME + latest.id;
  if (latest.state === 'running') {
    status.state = { running: { startedAt: formatTime(latest.startedAt ?? latest.createdAt) } };
    status.started = observation.probes.started(container, latest.id);
    status.ready = status.started && observation.probes.ready(container, latest.id);
    if (before !== undefined && isEnded(before)) status.lastState = { terminated: terminatedState(observation, before) };
  } else if (latest.state === 'created') {
    status.state = { waiting: waitingState(waiting ?? { reason: 'ContainerCreating' }) };
    if (before !== undefined && isEnded(before)) status.lastState = { terminated: terminatedState(observation, before) };
  } else if (waiting !== undefined) {
    // Ended and waiting to be restarted: the ended instance is the last state.
    status.state = { waiting: waitingState(waiting) };
    status.lastState = { terminated: terminatedState(observation, latest) };
  } else {
    status.state = { terminated: terminatedState(observation, latest) };
    if (before !== undefined && isEnded(before)) status.lastState = { terminated: terminatedState(observation, before) };
  }
  return status;
}

function isEnded(container: ContainerStatus): boolean {
  return container.state === 'exited' || container.state === 'unknown';
}

function waitingState(reason: WaitingReason): NonNullable<ApiContainerState['waiting']> {
  return reason.message ? { reason: reason.reason, message: reason.message } : { reason: reason.reason };
}

function terminatedState(observation: PodObservation, container: ContainerStatus): ContainerStateTerminated {
  const unknown = container.state === 'unknown';
  const terminated: ContainerStateTerminated = {
    exitCode: container.exitCode ?? (unknown ? 255 : 0),
    reason: container.reason ?? (unknown ? 'Unknown' : container.exitCode === 0 ? 'Completed' : 'Error'),
    containerID: CONTAINER_ID_SCHEME + container.id,
  };
  // The runtime's message, enriched with what the container left as its termination message.
  const message = [container.message, observation.terminationMessages.get(container.id)].filter(Boolean).join(': ');
  if (message) terminated.message = message;
  if (container.startedAt !== undefined) terminated.startedAt = formatTime(container.startedAt);
  if (container.finishedAt !== undefined) terminated.finishedAt = formatTime(container.finishedAt);
  return terminated;
}

/** Whether every init container is done: regular ones ended with 0, sidecars started. */
function initDone(initContainers: readonly Container[], statuses: readonly ApiContainerStatus[]): boolean {
  return incompleteInit(initContainers, statuses).length === 0;
}

function incompleteInit(initContainers: readonly Container[], statuses: readonly ApiContainerStatus[]): string[] {
  return initContainers
    .filter((container, index) => {
      const status = statuses[index];
      if (isSidecar(container)) return status?.started !== true;
      return status?.state?.terminated?.exitCode !== 0;
    })
    .map((container) => container.name);
}

/**
 * The pod's phase by the kubelet's rules: Pending until every container has started once (or an init
 * container is still due), Running while one runs or will be restarted, Succeeded/Failed once all have
 * ended and nothing will restart them.
 */
export function podPhase(pod: Pod, initStatuses: readonly ApiContainerStatus[], statuses: readonly ApiContainerStatus[], terminal: boolean): string {
  const spec = pod.spec ?? { containers: [] };
  const restartPolicy = spec.restartPolicy ?? 'Always';
  const initContainers = spec.initContainers ?? [];
  let pendingInit = 0;
  let failedInit = 0;
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  initContainers.forEach((container, index) => {
    const state = initStatuses[index]?.state ?? {};
    const lastTerminated = initStatuses[index]?.lastState?.terminated;
    if (isSidecar(container)) {
      if (state.running !== undefined) {
        if (initStatuses[index]?.started !== true) pendingInit++;
        running++;
      } else if (state.waiting !== undefined && lastTerminated === undefined) {
        pendingInit++;
        waiting++;
      } else if (state.terminated === undefined && state.waiting === undefined) {
        pendingInit++;
        unknown++;
      }
      return;
    }
    if (state.running !== undefined) pendingInit++;
    else if (state.terminated !== undefined) {
      if (state.terminated.exitCode !== 0) failedInit++;
    } else if (state.waiting !== undefined && lastTerminated !== undefined) {
      if (lastTerminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  });
  for (const status of statuses) {
    const state = status.state ?? {};
    if (state.running !== undefined) running++;
    else if (state.terminated !== undefined) {
      stopped++;
      if (state.terminated.exitCode === 0) succeeded++;
    } else if (state.waiting !== undefined) {
      if (status.lastState?.terminated !== undefined) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  const anyRegularStarted = statuses.some((status) => status.state?.running !== undefined || status.state?.terminated !== undefined || status.lastState?.terminated !== undefined);
  if ((pendingInit > 0 && !anyRegularStarted) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function podConditions(
  observation: PodObservation,
  initContainers: readonly Container[],
  initStatuses: readonly ApiContainerStatus[],
  statuses: readonly ApiContainerStatus[],
  phase: string,
  sandboxReady: boolean,
  initialized: boolean,
): PodCondition[] {
  const pod = observation.pod;
  const previous = pod.status?.conditions ?? [];
  const make = (type: string, ok: boolean, reason?: string, message?: string): PodCondition => {
    const before = previous.find((condition) => condition.type === type);
    const status = ok ? 'True' : 'False';
    const condition: PodCondition = { type, status, lastProbeTime: null as unknown as string };
    condition.lastTransitionTime = before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : formatTime(observation.nowMs);
    if (!ok && reason) condition.reason = reason;
    if (!ok && message) condition.message = message;
    return condition;
  };
  const completed = phase === 'Succeeded';
  const incomplete = incompleteInit(initContainers, initStatuses);
  // A pod that ran to completion counts as initialized even if its init containers' statuses are gone.
  const initializedNow = initialized || completed || statuses.some((status) => status.state?.running !== undefined);
  const unready = [
    ...initContainers.filter((container, index) => isSidecar(container) && initStatuses[index]?.ready !== true).map((container) => container.name),
    ...statuses.filter((status) => !status.ready).map((status) => status.name),
  ];
  const containersReady = unready.length === 0 && !completed;
  const notReadyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const gateProblems = (pod.spec?.readinessGates ?? [])
    .map((gate) => {
      const condition = previous.find((c) => c.type === gate.conditionType);
      if (condition === undefined) return `corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`;
      if (condition.status !== 'True') return `the status of pod readiness gate "${gate.conditionType}" is not "True", but ${condition.status}`;
      return undefined;
    })
    .filter((problem): problem is string => problem !== undefined);
  const ready = containersReady && gateProblems.length === 0;
  const readyReason = !containersReady ? notReadyReason : 'ReadinessGatesNotReady';
  const readyMessage = !containersReady ? notReadyMessage : gateProblems.join(', ');
  return [
    make('PodReadyToStartContainers', sandboxReady),
    make('Initialized', initializedNow, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`),
    make('Ready', ready, readyReason, readyMessage),
    make('ContainersReady', containersReady, notReadyReason, notReadyMessage),
  ];
}
