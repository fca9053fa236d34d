/**
 * The Node object a kubelet registers and the status it reports, as pure functions of what it
 * observes (upstream's nodestatus setters): capacity, allocatable, addresses, nodeInfo, images,
 * the kubelet's endpoint and the four conditions with upstream's reasons and messages.
 *
 * Every computation stamps each condition's lastHeartbeatTime with `now` and keeps its
 * lastTransitionTime while its status holds; `nodeStatusChanged` ignores heartbeats, so the
 * reporter writes only on a real change or when the report interval has passed (upstream's
 * nodeStatusHasChanged + nodeStatusReportFrequency).
 */
import { formatTime } from '@k8ts/apimachinery';
import type { ContainerImage, Node, NodeAddress, NodeCondition, NodeStatus, NodeSystemInfo, Taint } from 'kubernetes-types/core/v1.js';
import type { ResourceList } from './resources.js';

/** What the kubelet knows of the node's health (runtime, network, eviction signals). */
export interface NodeHealth {
  /** Why the node is not ready (runtime down, network not ready …); empty or absent: Ready. */
  readonly notReadyReasons?: readonly string[];
  readonly memoryPressure?: boolean;
  readonly diskPressure?: boolean;
  readonly pidPressure?: boolean;
}

/** Everything the status is computed from; a simulated node makes one up, a real one reads its host. */
export interface NodeObservation {
  readonly capacity: ResourceList;
  readonly allocatable: ResourceList;
  readonly addresses: readonly NodeAddress[];
  readonly nodeInfo: NodeSystemInfo;
  /** The images the runtime holds (runtime.listImages()). */
  readonly images: readonly { readonly names: readonly string[]; readonly sizeBytes: number }[];
  /** daemonEndpoints.kubeletEndpoint.Port (--port). */
  readonly kubeletPort: number;
  readonly health: NodeHealth;
}

/** What the kubelet registers its Node with, besides the status. */
export interface NodeDescription {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** --register-with-taints: set when the Node is created, never on an existing one (as upstream). */
  readonly taints: readonly Taint[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Upstream's --node-status-max-images default: the 50 largest images are reported. */
export const NODE_STATUS_MAX_IMAGES = 50;

interface ConditionState {
  readonly type: string;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

/** The four conditions a kubelet owns, in upstream's order, from its health. */
export function conditionStates(health: NodeHealth): ConditionState[] {
  const notReady = health.notReadyReasons ?? [];
  return [
    health.memoryPressure === true
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    health.diskPressure === true
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    health.pidPressure === true
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    notReady.length > 0
      ? { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: notReady.join(', ') }
      : { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ];
}

/**
 * The conditions at `nowMs`: the kubelet's four (heartbeat now; transition kept while the status
 * holds, now when it changes — also from another writer's Unknown) followed by any other writer's
 * conditions (NetworkUnavailable …) untouched.
 */
export function nodeConditions(previous: readonly NodeCondition[] | undefined, health: NodeHealth, nowMs: number): NodeCondition[] {
  const now = formatTime(nowMs);
  const states = conditionStates(health);
  const owned = new Set(states.map((state) => state.type));
  const result: NodeCondition[] = states.map((state) => {
    const before = previous?.find((condition) => condition.type === state.type);
    const transition = before !== undefined && before.status === state.status && before.lastTransitionTime !== undefined ? before.lastTransitionTime : now;
    return { type: state.type, status: state.status, lastHeartbeatTime: now, lastTransitionTime: transition, reason: state.reason, message: state.message };
  });
  for (const condition of previous ?? []) if (!owned.has(condition.type)) result.push(condition);
  return result;
}

/** Node.status.images: the largest first, at most `limit`, as upstream's images setter. */
export function nodeImages(images: NodeObservation['images'], limit = NODE_STATUS_MAX_IMAGES): ContainerImage[] {
  return [...images]
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, limit)
    .map((image) => ({ names: [...image.names], sizeBytes: image.sizeBytes }));
}

/** The status the kubelet reports at `nowMs`, given the one the API holds (`previous`). */
export function nodeStatusFor(previous: NodeStatus | undefined, observation: NodeObservation, nowMs: number): NodeStatus {
  return {
    ...previous,
    capacity: { ...observation.capacity },
    allocatable: { ...observation.allocatable },
    conditions: nodeConditions(previous?.conditions, observation.health, nowMs),
    addresses: observation.addresses.map((address) => ({ ...address })),
    daemonEndpoints: { kubeletEndpoint: { Port: observation.kubeletPort } },
    nodeInfo: { ...observation.nodeInfo },
    images: nodeImages(observation.images),
  };
}

/** The Node a kubelet creates when it registers (no spec.podCIDR: that is the controller manager's). */
export function buildNode(description: NodeDescription, observation: NodeObservation, nowMs: number): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: description.name,
      labels: { ...description.labels },
      ...(description.annotations === undefined ? {} : { annotations: { ...description.annotations } }),
    },
    spec: description.taints.length > 0 ? { taints: description.taints.map((taint) => ({ ...taint })) } : {},
    status: nodeStatusFor(undefined, observation, nowMs),
  };
}

/**
 * The labels to write on an existing Node this kubelet adopts (upstream's updateDefaultLabels,
 * extended to --node-labels): the description's labels where the Node's differ, others kept.
 * Undefined when nothing differs.
 */
export function labelsToAdopt(existing: Node, description: NodeDescription): Record<string, string> | undefined {
  const current = existing.metadata?.labels ?? {};
  const changed: Record<string, string> = {};
  for (const [key, value] of Object.entries(description.labels)) if (current[key] !== value) changed[key] = value;
  return Object.keys(changed).length === 0 ? undefined : changed;
}

/** Whether the status differs from the API's in anything but the conditions' heartbeat times. */
export function nodeStatusChanged(before: NodeStatus | undefined, after: NodeStatus): boolean {
  if (before === undefined) return true;
  const withoutHeartbeats = (status: NodeStatus): NodeStatus => ({
    ...status,
    conditions: (status.conditions ?? []).map(({ lastHeartbeatTime: _ignored, ...rest }) => rest),
  });
  return !sameJson(withoutHeartbeats(before), withoutHeartbeats(after));
}

/** Deep equality of JSON values, object keys in any order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => sameJson(item, other[i]));
  }
  const left = Object.entries(a).filter(([, value]) => value !== undefined);
  const right = Object.entries(b).filter(([, value]) => value !== undefined);
  if (left.length !== right.length) return false;
  const rightMap = new Map(right);
  return left.every(([key, value]) => rightMap.has(key) && sameJson(value, rightMap.get(key)));
}
