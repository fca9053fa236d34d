import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { admitPod } from './admission.js';

const node: Node = {
  metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', disk: 'ssd' } },
  status: { allocatable: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi', pods: '3' } },
};

let next = 0;
function pod(containers: Partial<Container>[], spec: Partial<Pod['spec']> = {}): Pod {
  next += 1;
  return {
    metadata: { name: `p${next}`, namespace: 'default', uid: `uid-${next}` },
    spec: { nodeName: 'n1', containers: containers.map((c, i) => ({ name: `c${i}`, image: 'busybox', ...c })), ...spec },
  };
}
const requesting = (cpu: string, memory?: string): Partial<Container> => ({ resources: { requests: { cpu, ...(memory === undefined ? {} : { memory }) } } });

describe("the kubelet's admission", () => {
  test('a pod that fits is admitted', () => {
    expect(admitPod(pod([requesting('500m', '1Gi')]), node, [pod([requesting('1')])])).toEqual({ admit: true });
  });

  test("OutOfcpu with upstream's message (millicores, allocatable as capacity)", () => {
    const result = admitPod(pod([requesting('500m')]), node, [pod([requesting('1800m')])]);
    expect(result).toEqual({ admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 500, used: 1800, capacity: 2000" });
  });

  test('OutOfmemory in bytes', () => {
    expect(admitPod(pod([requesting('100m', '5Gi')]), node, [])).toEqual({
      admit: false,
      reason: 'OutOfmemory',
      message: `Node didn't have enough resource: memory, requested: ${5 * 1024 ** 3}, used: 0, capacity: ${4 * 1024 ** 3}`,
    });
  });

  test('OutOfpods is checked first', () => {
    const full = [pod([]), pod([]), pod([])];
    expect(admitPod(pod([requesting('3')]), node, full)).toEqual({ admit: false, reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3" });
  });

  test('the pod itself among the active pods is not counted twice', () => {
    const p = pod([requesting('1500m')]);
    expect(admitPod(p, node, [p])).toEqual({ admit: true });
  });

  test('requests as the scheduler counts them: init containers at their peak, sidecars added, overhead', () => {
    const withInit = pod([requesting('500m')], { initContainers: [{ name: 'i', image: 'busybox', resources: { requests: { cpu: '2500m' } } }] });
    expect(admitPod(withInit, node, [])).toMatchObject({ reason: 'OutOfcpu', message: expect.stringContaining('requested: 2500,') });
    const withSidecar = pod([requesting('1500m')], { initContainers: [{ name: 's', image: 'busybox', restartPolicy: 'Always', resources: { requests: { cpu: '600m' } } }] });
    expect(admitPod(withSidecar, node, [])).toMatchObject({ reason: 'OutOfcpu', message: expect.stringContaining('requested: 2100,') });
    const withOverhead = pod([requesting('1900m')], { overhead: { cpu: '200m' } });
    expect(admitPod(withOverhead, node, [])).toMatchObject({ reason: 'OutOfcpu', message: expect.stringContaining('requested: 2100,') });
  });

  test('extended resources as OutOf<name>; one the node does not advertise is not checked', () => {
    const gpuNode: Node = { ...node, status: { allocatable: { ...node.status?.allocatable, 'example.com/gpu': '2' } } };
    const gpus = (n: string): Partial<Container> => ({ resources: { requests: { 'example.com/gpu': n } } });
    expect(admitPod(pod([gpus('2')]), gpuNode, [pod([gpus('1')])])).toEqual({
      admit: false,
      reason: 'OutOfexample.com/gpu',
      message: "Node didn't have enough resource: example.com/gpu, requested: 2, used: 1, capacity: 2",
    });
    expect(admitPod(pod([gpus('1')]), gpuNode, [pod([gpus('1')])])).toEqual({ admit: true });
    expect(admitPod(pod([gpus('5')]), node, [])).toEqual({ admit: true });
  });

  test('NodePorts: a host port in use on an overlapping address and the same protocol', () => {
    const holder = pod([{ ports: [{ containerPort: 80, hostPort: 8080 }] }]);
    const clash = pod([{ ports: [{ containerPort: 8000, hostPort: 8080 }] }]);
    expect(admitPod(clash, node, [holder])).toEqual({ admit: false, reason: 'NodePorts', message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports" });
    const udp = pod([{ ports: [{ containerPort: 8000, hostPort: 8080, protocol: 'UDP' }] }]);
    expect(admitPod(udp, node, [holder])).toEqual({ admit: true });
    const otherIp = pod([{ ports: [{ containerPort: 1, hostPort: 9090, hostIP: '10.0.0.1' }] }]);
    const otherIp2 = pod([{ ports: [{ containerPort: 1, hostPort: 9090, hostIP: '10.0.0.2' }] }]);
    expect(admitPod(otherIp2, node, [otherIp])).toEqual({ admit: true });
  });

  test("NodePorts counts a sidecar's host port", () => {
    const sidecar = (name: string): Partial<Pod['spec']> => ({ initContainers: [{ name, image: 'busybox', restartPolicy: 'Always', ports: [{ containerPort: 81, hostPort: 8181 }] }] });
    expect(admitPod(pod([], sidecar('s2')), node, [pod([], sidecar('s1'))])).toMatchObject({ admit: false, reason: 'NodePorts' });
  });

  test('pods sharing the node network: a container port is a host port', () => {
    const holder = pod([{ ports: [{ containerPort: 8080 }] }]);
    const same = pod([{ ports: [{ containerPort: 8080 }] }]);
    expect(admitPod(same, node, [holder])).toEqual({ admit: true });
    expect(admitPod(same, node, [holder], { podsShareNodeNetwork: true })).toMatchObject({ admit: false, reason: 'NodePorts' });
  });

  test('NodeAffinity, NodeName and NoExecute taints', () => {
    expect(admitPod(pod([], { nodeSelector: { disk: 'hdd' } }), node, [])).toEqual({ admit: false, reason: 'NodeAffinity', message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" });
    const affinity = (operator: string, values: string[]): Partial<Pod['spec']> => ({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator, values }] }] } } },
    });
    expect(admitPod(pod([], affinity('In', ['ssd'])), node, [])).toEqual({ admit: true });
    expect(admitPod(pod([], affinity('NotIn', ['ssd'])), node, [])).toMatchObject({ reason: 'NodeAffinity' });
    expect(admitPod(pod([], { nodeName: 'n2' }), node, [])).toMatchObject({ reason: 'NodeName' });
    const tainted: Node = { ...node, spec: { taints: [{ key: 'k', effect: 'NoExecute' }, { key: 's', effect: 'NoSchedule' }] } };
    expect(admitPod(pod([]), tainted, [])).toEqual({ admit: false, reason: 'TaintToleration', message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate" });
    expect(admitPod(pod([], { tolerations: [{ key: 'k', operator: 'Exists' }] }), tainted, [])).toEqual({ admit: true });
  });
});
