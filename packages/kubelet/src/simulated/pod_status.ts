/**
 * The pod statuses a simulated node writes: the real kubelet's own status computation
 * (pods/pod_status.ts, computePodStatus) fed with what instant containers would report — so phase,
 * conditions, reasons, messages, IPs, container states and ids have exactly the kubelet's shape.
 * Fleets keep a compact summary per pod, not its object; the pod and runtime view are rebuilt from
 * it for each write.
 *
 * Each result is the `status` of a strategic merge patch on pods/status: conditions merge by type
 * (PodScheduled, the scheduler's, is kept), container statuses replace the old ones whole.
 */
import { formatTime } from '@k8ts/apimachinery';
import type { Container, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { computePodStatus, type ProbeView } from '../pods/pod_status.js';
import type { ContainerStatus, PodSandboxStatus } from '../runtime/runtime.js';

export interface ContainerRef {
  readonly name: string;
  readonly image: string;
  /** An init container with restartPolicy Always: a sidecar, running beside the containers. */
  readonly sidecar?: boolean;
}

/** What a status needs from a pod: read once from its object. */
export interface PodSummary {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly containers: readonly ContainerRef[];
  /** Init containers in spec order (sidecars among them). */
  readonly initContainers: readonly ContainerRef[];
  readonly readinessGates: readonly string[];
  readonly restartPolicy: string | undefined;
  readonly qosClass: string | undefined;
  /** Owned by a Job: it ends (kwok's pod-complete stage). */
  readonly completes: boolean;
}

export function summarizePod(pod: Pod): PodSummary {
  const ref = (container: Container): ContainerRef => ({
    name: container.name,
    image: container.image ?? '',
    ...(container.restartPolicy === 'Always' ? { sidecar: true } : {}),
  });
  return {
    uid: pod.metadata?.uid ?? '',
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    containers: (pod.spec?.containers ?? []).map(ref),
    initContainers: (pod.spec?.initContainers ?? []).map(ref),
    readinessGates: (pod.spec?.readinessGates ?? []).map((gate) => gate.conditionType),
    restartPolicy: pod.spec?.restartPolicy,
    qosClass: pod.status?.qosClass,
    completes: (pod.metadata?.ownerReferences ?? []).some((owner) => owner.kind === 'Job' && owner.controller === true),
  };
}

/** Where a pod stands; every time is milliseconds since the epoch. */
export type SimulatedPodState =
  | { readonly phase: 'Pending'; readonly sinceMs: number }
  | { readonly phase: 'Running'; readonly startedMs: number; readonly ready: boolean; readonly sinceMs: number }
  | { readonly phase: 'Succeeded' | 'Failed'; readonly startedMs: number; readonly finishedMs: number };

export interface PodAddresses {
  readonly hostIP: string;
  readonly podIP?: string;
}

/** When the node took the pod on (status.startTime: the kubelet's first sight of it). */
export interface PodTimes {
  readonly acceptedMs: number;
  readonly nowMs: number;
}

/** The pod as computePodStatus reads it: its spec's containers, gates and policy, and its qosClass. */
function podOf(summary: PodSummary): Pod {
  const container = (ref: ContainerRef): Container => ({ name: ref.name, image: ref.image, ...(ref.sidecar === true ? { restartPolicy: 'Always' } : {}) });
  return {
    metadata: { name: summary.name, namespace: summary.namespace, uid: summary.uid },
    spec: {
      containers: summary.containers.map(container),
      ...(summary.initContainers.length === 0 ? {} : { initContainers: summary.initContainers.map(container) }),
      ...(summary.readinessGates.length === 0 ? {} : { readinessGates: summary.readinessGates.map((conditionType) => ({ conditionType })) }),
      ...(summary.restartPolicy === undefined ? {} : { restartPolicy: summary.restartPolicy }),
    },
    status: summary.qosClass === undefined ? {} : { qosClass: summary.qosClass },
  };
}

/** What an instant runtime would report for one container in `state`. */
function runtimeContainer(summary: PodSummary, ref: ContainerRef, state: SimulatedPodState, initContainer: boolean): ContainerStatus | undefined {
  if (state.phase === 'Pending') return undefined; // not created yet: the kubelet reports ContainerCreating
  const startedAt = new Date(state.startedMs);
  const base = {
    id: `${summary.uid}-${ref.name}`,
    sandboxId: summary.uid,
    name: ref.name,
    attempt: 0,
    image: ref.image,
    imageRef: ref.image,
    createdAt: startedAt,
    startedAt,
    logPath: '',
    labels: {},
    annotations: {},
  };
  const runs = state.phase === 'Running' && (!initContainer || ref.sidecar === true);
  if (runs) return { ...base, state: 'running' };
  const finishedAt = new Date(state.phase === 'Running' ? state.startedMs : state.finishedMs);
  const failed = state.phase === 'Failed' && !initContainer;
  return { ...base, state: 'exited', finishedAt, exitCode: failed ? 1 : 0, reason: failed ? 'Error' : 'Completed' };
}

/** The status to write for `state`. */
export function buildPodStatus(summary: PodSummary, state: SimulatedPodState, addresses: PodAddresses, times: PodTimes): PodStatus {
  const ready = state.phase === 'Running' && state.ready;
  const probes: ProbeView = { ready: () => ready, started: () => true };
  const containers = [
    ...summary.initContainers.map((ref) => runtimeContainer(summary, ref, state, true)),
    ...summary.containers.map((ref) => runtimeContainer(summary, ref, state, false)),
  ].filter((container): container is ContainerStatus => container !== undefined);
  const sandbox: PodSandboxStatus | undefined =
    state.phase === 'Running' && addresses.podIP !== undefined
      ? { id: summary.uid, uid: summary.uid, name: summary.name, namespace: summary.namespace, attempt: 0, state: 'ready', createdAt: new Date(state.startedMs), ips: [addresses.podIP] }
      : undefined;
  const pod = podOf(summary);
  return computePodStatus({
    pod: { ...pod, status: { ...pod.status, startTime: formatTime(times.acceptedMs) } },
    sandbox,
    containers,
    waiting: new Map(),
    terminationMessages: new Map(),
    probes,
    hostIPs: [addresses.hostIP],
    nowMs: times.nowMs,
    terminal: state.phase === 'Succeeded' || state.phase === 'Failed',
  });
}
