import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { noScheduleTaintChanges, NOT_READY_NO_EXECUTE, swapTaints, UNREACHABLE_NO_EXECUTE } from './taints.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

describe('swapTaints', () => {
  it('adds with timeAdded and removes by key and effect, keeping other taints', () => {
    const taints = [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { ...NOT_READY_NO_EXECUTE, timeAdded: '2024-12-31T00:00:00Z' }];
    expect(swapTaints(taints, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE], T0)).toEqual([
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2025-01-01T00:00:00Z' },
    ]);
  });

  it('keeps a taint that is already there with its first timeAdded, and says when nothing changes', () => {
    const taints = [{ ...UNREACHABLE_NO_EXECUTE, timeAdded: '2024-12-31T00:00:00Z' }];
    expect(swapTaints(taints, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE], T0)).toBeUndefined();
    expect(swapTaints(undefined, [], [UNREACHABLE_NO_EXECUTE], T0)).toBeUndefined();
    expect(swapTaints(taints, [], [UNREACHABLE_NO_EXECUTE], T0)).toEqual([]);
  });
});

describe('noScheduleTaintChanges (TaintNodesByCondition)', () => {
  const node = (conditions: Record<string, string>, taints: Taint[] = [], unschedulable = false): Node => ({
    metadata: { name: 'n1' },
    spec: { taints, unschedulable },
    status: { conditions: Object.entries(conditions).map(([type, status]) => ({ type, status })) },
  });

  it('mirrors Ready False/Unknown, pressure conditions and unschedulable as NoSchedule taints', () => {
    expect(noScheduleTaintChanges(node({ Ready: 'Unknown', MemoryPressure: 'True', DiskPressure: 'False' }, [], true)).add).toEqual([
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
    ]);
    expect(noScheduleTaintChanges(node({ Ready: 'False' })).add).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
  });

  it('removes only the condition taints that no longer apply, never NoExecute or foreign ones', () => {
    const taints = [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      { key: 'dedicated', effect: 'NoSchedule' },
    ];
    expect(noScheduleTaintChanges(node({ Ready: 'True' }, taints))).toEqual({ add: [], remove: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] });
    expect(noScheduleTaintChanges(node({ Ready: 'Unknown' }, taints))).toEqual({ add: [], remove: [] });
  });
});
