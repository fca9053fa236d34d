import { describe, expect, it } from 'vitest';
import { node, pod } from '../testing/builders.js';
import { NodeInfo } from './node_info.js';

/** The NodeInfo's copies of its numbers, read back from the Resources and the pod list they copy. */
function copiesMatch(info: NodeInfo): void {
  expect({
    podCount: info.podCount,
    allowedPodNumber: info.allowedPodNumber,
    allocatableMilliCpu: info.allocatableMilliCpu,
    allocatableMemory: info.allocatableMemory,
    allocatableEphemeralStorage: info.allocatableEphemeralStorage,
    requestedMilliCpu: info.requestedMilliCpu,
    requestedMemory: info.requestedMemory,
    requestedEphemeralStorage: info.requestedEphemeralStorage,
    nonZeroMilliCpu: info.nonZeroMilliCpu,
    nonZeroMemory: info.nonZeroMemory,
  }).toEqual({
    podCount: info.pods.length,
    allowedPodNumber: info.allocatable.allowedPodNumber,
    allocatableMilliCpu: info.allocatable.milliCpu,
    allocatableMemory: info.allocatable.memory,
    allocatableEphemeralStorage: info.allocatable.ephemeralStorage,
    requestedMilliCpu: info.requested.milliCpu,
    requestedMemory: info.requested.memory,
    requestedEphemeralStorage: info.requested.ephemeralStorage,
    nonZeroMilliCpu: info.nonZeroRequested.milliCpu,
    nonZeroMemory: info.nonZeroRequested.memory,
  });
}

describe('NodeInfo', () => {
  it('keeps its name and its copies of the numbers in step with the node, its pods and its clones', () => {
    const info = new NodeInfo();
    expect(info.name).toBe('');
    copiesMatch(info);

    info.setNode(node('n1').cpu('4').memory('32Gi').allocatable({ 'ephemeral-storage': '10Gi' }).build());
    expect(info.name).toBe('n1');
    expect(info.allocatableMemory).toBe(32 * 2 ** 30);
    copiesMatch(info);

    const big = pod('big').request({ cpu: '1500m', memory: '3Gi', 'ephemeral-storage': '1Gi' }).build();
    info.addPod(big);
    info.addPod(pod('empty').build()); // no requests: counted as 100m / 200Mi by the non-zero sums
    expect(info.requestedMilliCpu).toBe(1500);
    expect(info.nonZeroMilliCpu).toBe(1600);
    copiesMatch(info);

    const copy = info.clone();
    expect(copy.name).toBe('n1');
    copiesMatch(copy);
    copy.removePod(big);
    copiesMatch(copy);
    expect(copy.requestedMilliCpu).toBe(0);
    expect(info.requestedMilliCpu).toBe(1500); // the original is untouched

    info.setNode(node('n1').cpu('8').build());
    expect(info.allocatableMilliCpu).toBe(8000);
    copiesMatch(info);

    info.clearNode();
    expect(info.name).toBe('');
    expect(info.node).toBeUndefined();
    copiesMatch(info);
  });
});
