import { formatTime } from '@k8ts/apimachinery';
import type { KubeObject } from '@k8ts/client';
import type { SchedulerBenchOptions, WorkloadName } from './scheduler_options.js';
import { formatCpuMillis, formatMemoryBytes, parseCpuMillis, parseMemoryBytes } from './scheduler_quantity.js';

/**
 * The objects `k8ts bench scheduler` creates, after scheduler_perf's templates
 * (kubernetes/kubernetes test/integration/scheduler_perf/templates/): simulated nodes as
 * node-default.yaml (capacity cpu 4, memory 32Gi, pods 110; Ready, no kubelet behind them, as
 * kwok's), and pods as pod-default.yaml (one pause container requesting and limited to cpu 100m,
 * memory 500Mi) with each workload's additions.
 */

export interface BenchContainer {
  name: string;
  image: string;
  ports?: { containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
}

export interface BenchPodSpec {
  nodeName?: string;
  containers: BenchContainer[];
  initContainers?: BenchContainer[];
  overhead?: Record<string, string>;
  priority?: number;
  priorityClassName?: string;
  terminationGracePeriodSeconds?: number;
  affinity?: {
    podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { labelSelector?: LabelSelector; topologyKey: string }[] };
  };
  topologySpreadConstraints?: { maxSkew: number; topologyKey: string; whenUnsatisfiable: string; labelSelector?: LabelSelector }[];
}

export interface BenchPod extends KubeObject {
  spec?: BenchPodSpec;
  status?: { phase?: string; nominatedNodeName?: string };
}

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface BenchNode extends KubeObject {
  spec?: { unschedulable?: boolean };
  status?: { capacity?: Record<string, string>; allocatable?: Record<string, string>; conditions?: NodeCondition[]; phase?: string };
}

export interface PriorityClassObject extends KubeObject {
  value: number;
  globalDefault?: boolean;
  description?: string;
}

export interface CoreEvent extends KubeObject {
  reason?: string;
  message?: string;
  count?: number;
  series?: { count?: number };
  involvedObject?: { kind?: string; name?: string; namespace?: string };
}

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';
/** Every object of a run carries its id here, so a run on a given --server can be cleaned up. */
export const RUN_LABEL = 'k8ts-bench/run';
/** `measured` or `fill` (Preemption's unmeasured low-priority pods). */
export const ROLE_LABEL = 'k8ts-bench/role';
export const REGION = 'region-0';

/** The pause image of scheduler_perf's templates (pod-default.yaml and the others). */
export const POD_IMAGE = 'registry.k8s.io/pause:3.10';

/** scheduler_perf's pod-default.yaml: requests = limits = cpu 100m, memory 500Mi. */
export const DEFAULT_POD_RESOURCES = { cpu: '100m', memory: '500Mi' } as const;
/** scheduler_perf's pod-low-priority.yaml (PreemptionBasic's init pods): cpu 900m, memory 500Mi, grace 0. */
export const LOW_PRIORITY_POD_RESOURCES = { cpu: '900m', memory: '500Mi' } as const;
/** scheduler_perf's pod-high-priority.yaml (PreemptionBasic's measured pods): cpu 3000m, memory 500Mi. */
export const HIGH_PRIORITY_POD_RESOURCES = { cpu: '3000m', memory: '500Mi' } as const;

/** Preemption's PriorityClasses (scheduler_perf sets spec.priority 10 on the high pods directly instead). */
export const PRIORITY_CLASSES = [
  { name: 'low', value: 1 },
  { name: 'high', value: 1000 },
] as const;

/** SchedulingPodAntiAffinity (pod-with-pod-anti-affinity.yaml) and TopologySpreading (pod-with-topology-spreading.yaml). */
export const ANTI_AFFINITY_LABELS = { color: 'green' } as const;
export const SPREAD_LABELS = { color: 'blue' } as const;
export const SPREAD_MAX_SKEW = 5;

/** `node-000001` for index 0. */
export function nodeName(index: number): string {
  return `node-${String(index + 1).padStart(6, '0')}`;
}

export function zoneName(index: number, zones: number): string {
  return `zone-${index % zones}`;
}

/** One simulated node: Ready, with capacity = allocatable, labelled with its host, zone and region. */
export function buildNode(index: number, options: Pick<SchedulerBenchOptions, 'zones' | 'nodeCpu' | 'nodeMemory' | 'nodePods'>, runId: string, now: Date): BenchNode {
  const name = nodeName(index);
  const resources = { cpu: options.nodeCpu, memory: options.nodeMemory, pods: String(options.nodePods) };
  const time = formatTime(now);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { [HOSTNAME_LABEL]: name, [ZONE_LABEL]: zoneName(index, options.zones), [REGION_LABEL]: REGION, [RUN_LABEL]: runId },
    },
    spec: {},
    status: {
      capacity: { ...resources },
      allocatable: { ...resources },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'simulated by k8ts bench scheduler: no kubelet runs behind this node',
          lastHeartbeatTime: time,
          lastTransitionTime: time,
        },
      ],
      phase: 'Running',
    },
  };
}

/** A pod's name: `pod-000001` (measured) or `fill-000001` for index 0. */
export function podName(role: 'measured' | 'fill', index: number): string {
  return `${role === 'measured' ? 'pod' : 'fill'}-${String(index + 1).padStart(6, '0')}`;
}

interface PodShape {
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources: { readonly cpu: string; readonly memory: string };
  readonly spec?: Partial<BenchPodSpec>;
}

function buildPod(namespace: string, runId: string, role: 'measured' | 'fill', index: number, shape: PodShape): BenchPod {
  const resources = { cpu: shape.resources.cpu, memory: shape.resources.memory };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName(role, index), namespace, labels: { ...shape.labels, [RUN_LABEL]: runId, [ROLE_LABEL]: role } },
    spec: {
      ...shape.spec,
      containers: [{ name: 'pause', image: POD_IMAGE, ports: [{ containerPort: 80 }], resources: { requests: { ...resources }, limits: { ...resources } } }],
    },
  };
}

/** Where the pods go and what the run may then check. */
export type PlacementRule =
  | { readonly kind: 'none' }
  /** At most one matching pod per value of topologyKey (required pod anti-affinity). */
  | { readonly kind: 'anti-affinity'; readonly labels: Readonly<Record<string, string>>; readonly topologyKey: string }
  /** Matching pods' counts per value of topologyKey differ by at most maxSkew (DoNotSchedule). */
  | { readonly kind: 'spread'; readonly labels: Readonly<Record<string, string>>; readonly topologyKey: string; readonly maxSkew: number };

export interface WorkloadPlan {
  readonly name: WorkloadName;
  /** What the workload is, and where its numbers come from. */
  readonly description: string;
  readonly measuredPods: number;
  readonly measuredRequests: { readonly cpu: string; readonly memory: string };
  /** Preemption: low-priority pods created and bound (by this bench, round robin) before measurement. */
  readonly fill?: { readonly perNode: number; readonly pods: number; readonly requests: { readonly cpu: string; readonly memory: string } };
  readonly priorityClasses: readonly { readonly name: string; readonly value: number }[];
  readonly placement: PlacementRule;
  /** Measured pods the nodes can hold under this workload (the run refuses more). */
  readonly capacity: number;
}

/** Where the pods are created, and the PriorityClasses' values as the server holds them. */
export interface PodContext {
  readonly namespace: string;
  readonly runId: string;
  readonly priorityValues: Readonly<Record<string, number>>;
}

function fitsPerNode(options: SchedulerBenchOptions, requests: { cpu: string; memory: string }): number {
  const cpu = Math.floor(parseCpuMillis(options.nodeCpu) / parseCpuMillis(requests.cpu));
  const memory = Math.floor(parseMemoryBytes(options.nodeMemory) / parseMemoryBytes(requests.memory));
  return Math.max(0, Math.min(cpu, memory, options.nodePods));
}

/** The workload's plan; throws when the nodes cannot hold the asked pods (they would stay unbound). */
export function planWorkload(options: SchedulerBenchOptions): WorkloadPlan {
  const base = { measuredPods: options.pods, priorityClasses: [] as const };
  const perNode = fitsPerNode(options, DEFAULT_POD_RESOURCES);
  let plan: WorkloadPlan;
  switch (options.workload) {
    case 'SchedulingBasic':
      plan = {
        ...base,
        name: 'SchedulingBasic',
        description: "scheduler_perf's SchedulingBasic: pods of pod-default.yaml (requests = limits = cpu 100m, memory 500Mi)",
        measuredRequests: DEFAULT_POD_RESOURCES,
        placement: { kind: 'none' },
        capacity: perNode * options.nodes,
      };
      break;
    case 'SchedulingPodAntiAffinity':
      plan = {
        ...base,
        name: 'SchedulingPodAntiAffinity',
        description:
          "scheduler_perf's SchedulingPodAntiAffinity: pods of pod-with-pod-anti-affinity.yaml (label color=green, required anti-affinity to color=green " +
          'on kubernetes.io/hostname, so at most one per node; cpu 100m, memory 500Mi), all in one namespace',
        measuredRequests: DEFAULT_POD_RESOURCES,
        placement: { kind: 'anti-affinity', labels: ANTI_AFFINITY_LABELS, topologyKey: HOSTNAME_LABEL },
        capacity: Math.min(perNode, 1) * options.nodes,
      };
      break;
    case 'TopologySpreading':
      plan = {
        ...base,
        name: 'TopologySpreading',
        description:
          "scheduler_perf's TopologySpreading: pods of pod-with-topology-spreading.yaml (label color=blue, topologySpreadConstraint maxSkew 5 on " +
          `topology.kubernetes.io/zone, DoNotSchedule; cpu 100m, memory 500Mi) over ${options.zones} zones (scheduler_perf labels 3: moon-1..3)`,
        measuredRequests: DEFAULT_POD_RESOURCES,
        placement: { kind: 'spread', labels: SPREAD_LABELS, topologyKey: ZONE_LABEL, maxSkew: SPREAD_MAX_SKEW },
        capacity: perNode * options.nodes,
      };
      break;
    case 'Preemption': {
      const nodeCpu = parseCpuMillis(options.nodeCpu);
      const highCpu = parseCpuMillis(HIGH_PRIORITY_POD_RESOURCES.cpu);
      if (nodeCpu < highCpu) throw new RangeError(`Preemption: --node-cpu ${options.nodeCpu} cannot hold one high-priority pod (cpu ${HIGH_PRIORITY_POD_RESOURCES.cpu})`);
      // As many 900m fill pods as the node's cpu holds: scheduler_perf's 4 per 4-cpu node (3.6 of 4 cpu taken).
      const fillPerNode = Math.floor(nodeCpu / parseCpuMillis(LOW_PRIORITY_POD_RESOURCES.cpu));
      if (fitsPerNode(options, LOW_PRIORITY_POD_RESOURCES) < fillPerNode || options.nodePods < fillPerNode + 1) {
        throw new RangeError(`Preemption: a node (${options.nodeCpu} cpu, ${options.nodeMemory}, ${options.nodePods} pods) cannot hold ${fillPerNode} fill pods and a high-priority pod`);
      }
      const fillCpu = fillPerNode * parseCpuMillis(LOW_PRIORITY_POD_RESOURCES.cpu);
      plan = {
        ...base,
        name: 'Preemption',
        description:
          "scheduler_perf's PreemptionBasic: every node first filled (unmeasured; created and bound by the bench) with " +
          `${fillPerNode} low-priority pods of pod-low-priority.yaml (cpu 900m, memory 500Mi, terminationGracePeriodSeconds 0: ${formatCpuMillis(fillCpu)} of ${options.nodeCpu} cpu taken), ` +
          'then the measured high-priority pods of pod-high-priority.yaml (cpu 3000m, memory 500Mi) that each must evict victims to fit; ' +
          `PriorityClasses low (${PRIORITY_CLASSES[0].value}) and high (${PRIORITY_CLASSES[1].value})`,
        measuredRequests: HIGH_PRIORITY_POD_RESOURCES,
        fill: { perNode: fillPerNode, pods: fillPerNode * options.nodes, requests: LOW_PRIORITY_POD_RESOURCES },
        priorityClasses: PRIORITY_CLASSES,
        placement: { kind: 'none' },
        capacity: Math.min(Math.floor(nodeCpu / highCpu), fitsPerNode(options, HIGH_PRIORITY_POD_RESOURCES)) * options.nodes,
      };
      break;
    }
  }
  if (options.pods > plan.capacity) {
    throw new RangeError(
      `--pods ${options.pods} exceeds the ${plan.capacity} ${plan.name} pods that ${options.nodes} nodes of ${options.nodeCpu} cpu, ${options.nodeMemory}, ` +
        `${options.nodePods} pods hold: raise --nodes`,
    );
  }
  return plan;
}

/** Measured pod `index` of the plan's workload. */
export function buildMeasuredPod(plan: WorkloadPlan, context: PodContext, index: number): BenchPod {
  const { namespace, runId } = context;
  switch (plan.name) {
    case 'SchedulingBasic':
      return buildPod(namespace, runId, 'measured', index, { resources: DEFAULT_POD_RESOURCES });
    case 'SchedulingPodAntiAffinity':
      return buildPod(namespace, runId, 'measured', index, {
        labels: ANTI_AFFINITY_LABELS,
        resources: DEFAULT_POD_RESOURCES,
        spec: {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { ...ANTI_AFFINITY_LABELS } }, topologyKey: HOSTNAME_LABEL }],
            },
          },
        },
      });
    case 'TopologySpreading':
      return buildPod(namespace, runId, 'measured', index, {
        labels: SPREAD_LABELS,
        resources: DEFAULT_POD_RESOURCES,
        spec: {
          topologySpreadConstraints: [
            { maxSkew: SPREAD_MAX_SKEW, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { ...SPREAD_LABELS } } },
          ],
        },
      });
    case 'Preemption':
      return buildPod(namespace, runId, 'measured', index, { resources: HIGH_PRIORITY_POD_RESOURCES, spec: priorityOf('high', context) });
  }
}

/** Preemption's fill pod `index` (low priority, deleted at once when evicted), and the node it is bound to. */
export function buildFillPod(plan: WorkloadPlan, context: PodContext, index: number): { pod: BenchPod; node: string } {
  const fill = plan.fill;
  if (fill === undefined) throw new Error(`${plan.name} has no fill pods`);
  const pod = buildPod(context.namespace, context.runId, 'fill', index, {
    resources: fill.requests,
    spec: { ...priorityOf('low', context), terminationGracePeriodSeconds: 0 },
  });
  return { pod, node: nodeName(Math.floor(index / fill.perNode)) };
}

/**
 * priorityClassName and the class's value as spec.priority: the Priority admission plugin accepts
 * a spec.priority equal to the class's value, and without that plugin the scheduler still sees it.
 */
function priorityOf(className: string, context: PodContext): Partial<BenchPodSpec> {
  const value = context.priorityValues[className];
  return value === undefined ? { priorityClassName: className } : { priorityClassName: className, priority: value };
}

export function buildPriorityClass(name: string, value: number, runId: string): PriorityClassObject {
  return {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name, labels: { [RUN_LABEL]: runId } },
    value,
    globalDefault: false,
    description: `k8ts bench scheduler (Preemption): ${name} priority`,
  };
}

/** "cpu 100m, memory 500Mi". */
export function describeRequests(requests: { readonly cpu: string; readonly memory: string }): string {
  return `cpu ${formatCpuMillis(parseCpuMillis(requests.cpu))}, memory ${formatMemoryBytes(parseMemoryBytes(requests.memory))}`;
}
