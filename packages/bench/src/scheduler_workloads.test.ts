import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULER_OPTIONS, type SchedulerBenchOptions, type WorkloadName } from './scheduler_options.js';
import { formatCpuMillis, formatMemoryBytes, parseCpuMillis, parseMemoryBytes, parseQuantity } from './scheduler_quantity.js';
import {
  HOSTNAME_LABEL,
  REGION_LABEL,
  ROLE_LABEL,
  RUN_LABEL,
  ZONE_LABEL,
  buildFillPod,
  buildMeasuredPod,
  buildNode,
  buildPriorityClass,
  nodeName,
  planWorkload,
  type PodContext,
} from './scheduler_workloads.js';

const options = (overrides: Partial<SchedulerBenchOptions> = {}): SchedulerBenchOptions => ({ ...DEFAULT_SCHEDULER_OPTIONS, nodes: 20, pods: 40, ...overrides });
const context: PodContext = { namespace: 'ns', runId: 'run1', priorityValues: { low: 1, high: 1000 } };
const plan = (workload: WorkloadName, overrides: Partial<SchedulerBenchOptions> = {}) => planWorkload(options({ workload, ...overrides }));

describe('quantities', () => {
  it('read cpu, memory and plain counts as Kubernetes writes them', () => {
    expect(parseCpuMillis('100m')).toBe(100);
    expect(parseCpuMillis('4')).toBe(4000);
    expect(parseCpuMillis('0.3')).toBe(300);
    expect(parseCpuMillis('1.5')).toBe(1500);
    expect(parseCpuMillis('0.0001')).toBe(1); // rounded up, as MilliValue
    expect(parseMemoryBytes('500Mi')).toBe(500 * 2 ** 20);
    expect(parseMemoryBytes('32Gi')).toBe(32 * 2 ** 30);
    expect(parseMemoryBytes('1G')).toBe(1e9);
    expect(parseMemoryBytes('1e3')).toBe(1000);
    expect(parseQuantity('110')).toBe(110);
    expect(() => parseQuantity('4 cores')).toThrow(/not a quantity/);
    expect(formatCpuMillis(3600)).toBe('3600m');
    expect(formatCpuMillis(4000)).toBe('4');
    expect(formatMemoryBytes(500 * 2 ** 20)).toBe('500Mi');
  });
});

describe('nodes', () => {
  it("are node-default.yaml's: Ready, capacity = allocatable cpu 4, memory 32Gi, pods 110, labelled host/zone/region", () => {
    const node = buildNode(11, options(), 'run1', new Date('2025-01-02T03:04:05.678Z'));
    expect(node.metadata?.name).toBe('node-000012');
    expect(node.metadata?.labels).toEqual({
      [HOSTNAME_LABEL]: 'node-000012',
      [ZONE_LABEL]: 'zone-1',
      [REGION_LABEL]: 'region-0',
      [RUN_LABEL]: 'run1',
    });
    expect(node.status?.capacity).toEqual({ cpu: '4', memory: '32Gi', pods: '110' });
    expect(node.status?.allocatable).toEqual(node.status?.capacity);
    expect(node.status?.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True', lastHeartbeatTime: '2025-01-02T03:04:05Z' })]);
  });

  it('take zones round robin and the node flags', () => {
    const zones = Array.from({ length: 7 }, (_, i) => buildNode(i, options({ zones: 3 }), 'r', new Date()).metadata?.labels?.[ZONE_LABEL]);
    expect(zones).toEqual(['zone-0', 'zone-1', 'zone-2', 'zone-0', 'zone-1', 'zone-2', 'zone-0']);
    expect(buildNode(0, options({ nodeCpu: '8', nodeMemory: '64Gi', nodePods: 250 }), 'r', new Date()).status?.allocatable).toEqual({ cpu: '8', memory: '64Gi', pods: '250' });
    expect(nodeName(0)).toBe('node-000001');
  });
});

describe('measured pods', () => {
  it("SchedulingBasic: pod-default.yaml's pause container, requests = limits = cpu 100m, memory 500Mi", () => {
    const pod = buildMeasuredPod(plan('SchedulingBasic'), context, 0);
    expect(pod.metadata).toEqual({ name: 'pod-000001', namespace: 'ns', labels: { [RUN_LABEL]: 'run1', [ROLE_LABEL]: 'measured' } });
    expect(pod.spec?.containers).toEqual([
      { name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m', memory: '500Mi' }, limits: { cpu: '100m', memory: '500Mi' } } },
    ]);
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.spec?.affinity).toBeUndefined();
  });

  it('SchedulingPodAntiAffinity: color=green with required anti-affinity to color=green per hostname', () => {
    const pod = buildMeasuredPod(plan('SchedulingPodAntiAffinity', { pods: 20 }), context, 4);
    expect(pod.metadata?.labels).toMatchObject({ color: 'green' });
    expect(pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: { color: 'green' } }, topologyKey: 'kubernetes.io/hostname' },
    ]);
    expect(pod.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '100m', memory: '500Mi' });
  });

  it('TopologySpreading: color=blue, maxSkew 5 on the zone label, DoNotSchedule', () => {
    const pod = buildMeasuredPod(plan('TopologySpreading'), context, 0);
    expect(pod.metadata?.labels).toMatchObject({ color: 'blue' });
    expect(pod.spec?.topologySpreadConstraints).toEqual([
      { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color: 'blue' } } },
    ]);
  });

  it("Preemption: high-priority pods of pod-high-priority.yaml (cpu 3000m) with the class's value as spec.priority", () => {
    const preemption = plan('Preemption', { pods: 20 });
    const pod = buildMeasuredPod(preemption, context, 0);
    expect(pod.spec).toMatchObject({ priorityClassName: 'high', priority: 1000 });
    expect(pod.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '3000m', memory: '500Mi' });
    expect(preemption.priorityClasses).toEqual([
      { name: 'low', value: 1 },
      { name: 'high', value: 1000 },
    ]);
    // A class that exists with another value: the pod carries that value, which admission accepts.
    expect(buildMeasuredPod(preemption, { ...context, priorityValues: { high: 7 } }, 0).spec?.priority).toBe(7);
  });
});

describe('Preemption fill', () => {
  it("fills every node with scheduler_perf's 4 low-priority 900m pods (3.6 of 4 cpu), deleted at once when evicted", () => {
    const preemption = plan('Preemption', { nodes: 3, pods: 3 });
    expect(preemption.fill).toEqual({ perNode: 4, pods: 12, requests: { cpu: '900m', memory: '500Mi' } });
    const placed = Array.from({ length: 12 }, (_, i) => buildFillPod(preemption, context, i));
    expect(placed.map(({ node }) => node)).toEqual([...Array(4).fill('node-000001'), ...Array(4).fill('node-000002'), ...Array(4).fill('node-000003')]);
    const first = placed[0]?.pod;
    expect(first?.metadata?.name).toBe('fill-000001');
    expect(first?.metadata?.labels?.[ROLE_LABEL]).toBe('fill');
    expect(first?.spec).toMatchObject({ priorityClassName: 'low', priority: 1, terminationGracePeriodSeconds: 0 });
    expect(first?.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '900m', memory: '500Mi' });
    expect(() => buildFillPod(plan('SchedulingBasic'), context, 0)).toThrow(/no fill/);
  });

  it('builds PriorityClasses labelled with the run', () => {
    expect(buildPriorityClass('low', 1, 'run1')).toEqual({
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'low', labels: { [RUN_LABEL]: 'run1' } },
      value: 1,
      globalDefault: false,
      description: 'k8ts bench scheduler (Preemption): low priority',
    });
  });
});

describe('plans', () => {
  it('refuse more pods than the nodes hold under the workload', () => {
    // 40 pods of 100m per 4-cpu node.
    expect(plan('SchedulingBasic', { nodes: 2, pods: 80 }).capacity).toBe(80);
    expect(() => plan('SchedulingBasic', { nodes: 2, pods: 81 })).toThrow(/--pods 81 exceeds the 80/);
    // One anti-affine pod per node.
    expect(() => plan('SchedulingPodAntiAffinity', { nodes: 5, pods: 6 })).toThrow(/exceeds the 5/);
    // One 3000m pod per 4-cpu node.
    expect(() => plan('Preemption', { nodes: 5, pods: 6 })).toThrow(/exceeds the 5/);
    // The pods flag counts too: 110 slots, but memory holds 65 pods of 500Mi.
    expect(plan('SchedulingBasic', { nodes: 1, pods: 1, nodeCpu: '100', nodeMemory: '32Gi' }).capacity).toBe(65);
  });

  it('refuse a Preemption whose nodes cannot hold a high-priority pod', () => {
    expect(() => plan('Preemption', { nodeCpu: '2', pods: 1 })).toThrow(/cannot hold one high-priority pod/);
  });
});
