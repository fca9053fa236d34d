import { describe, expect, it } from 'vitest';
import type { Toleration } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle } from '../../framework/interfaces.js';
import { NodeInfo } from '../../framework/node_info.js';
import { Code } from '../../framework/status.js';
import { node, pod } from '../../testing/builders.js';
import { NAME, NodeUnschedulable, factory } from './index.js';

const plugin = new NodeUnschedulable();
const cordoned = node('n1').unschedulable().info();

function podWith(...tolerations: Toleration[]) {
  const builder = pod('p');
  for (const toleration of tolerations) builder.toleration(toleration);
  return builder.build();
}

describe('NodeUnschedulable', () => {
  it('admits any pod on a schedulable node', () => {
    expect(plugin.filter(new CycleState(), podWith(), node('n1').info()).isSuccess()).toBe(true);
  });

  it('rejects a cordoned node for good', () => {
    const status = plugin.filter(new CycleState(), podWith(), cordoned);
    expect(status.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(status.reasons).toEqual(['node(s) were unschedulable']);
  });

  it.each<[string, Toleration, boolean]>([
    ['the unschedulable taint, Exists, NoSchedule (as DaemonSets do)', { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }, true],
    ['the unschedulable taint with any effect', { key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }, true],
    ['every taint', { operator: 'Exists' }, true],
    ['the unschedulable taint only for NoExecute', { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }, false],
    ['another taint', { key: 'node.kubernetes.io/not-ready', operator: 'Exists' }, false],
  ])('a pod tolerating %s: admitted = %s', (_name, toleration, admitted) => {
    expect(plugin.filter(new CycleState(), podWith(toleration), cordoned).isSuccess()).toBe(admitted);
  });

  it('rejects a NodeInfo without its Node as of unknown condition', () => {
    expect(plugin.filter(new CycleState(), podWith(), new NodeInfo()).reasons).toEqual(['node(s) had unknown conditions']);
  });

  it('is built by its factory under its upstream name and requeues on node and own-pod updates', () => {
    const built = factory({}, {} as Handle) as NodeUnschedulable;
    expect([NAME, built.name]).toEqual(['NodeUnschedulable', 'NodeUnschedulable']);
    expect(built.eventsToRegister()).toContainEqual({ resource: 'Node', action: 'Update' });
    expect(built.eventsToRegister()).toContainEqual({ resource: 'Pod', action: 'Update' });
  });
});
