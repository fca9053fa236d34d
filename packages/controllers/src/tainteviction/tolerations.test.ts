import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { evictionTime, noExecuteTaints } from './tolerations.js';

const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2025-01-01T00:00:00Z' };
const gpu: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoExecute', timeAdded: '2025-01-01T00:01:00Z' };
const added = (taint: Taint): number => Date.parse(taint.timeAdded ?? '');
const T0 = Date.parse('2025-01-01T00:00:00Z');

describe('evictionTime', () => {
  it('evicts at once (from the taint\'s time) when a taint is not tolerated', () => {
    expect(evictionTime([unreachable, gpu], [{ key: 'dedicated', operator: 'Exists' }], added)).toEqual({ kind: 'at', atMs: T0 });
  });

  it('bounds the stay by tolerationSeconds counted from the taint\'s timeAdded', () => {
    expect(evictionTime([unreachable], [{ key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }], added)).toEqual({
      kind: 'at',
      atMs: T0 + 300_000,
    });
  });

  it('takes the earliest bound over the taints, and never evicts when no toleration has seconds', () => {
    const tolerations: Toleration[] = [
      { key: unreachable.key, operator: 'Exists', tolerationSeconds: 600 },
      { key: 'dedicated', operator: 'Exists', tolerationSeconds: 30 },
    ];
    expect(evictionTime([unreachable, gpu], tolerations, added)).toEqual({ kind: 'at', atMs: T0 + 60_000 + 30_000 });
    expect(evictionTime([unreachable, gpu], [{ operator: 'Exists' }], added)).toEqual({ kind: 'never' });
    expect(evictionTime([], [], added)).toEqual({ kind: 'never' });
  });

  it('uses the first toleration that matches a taint, as upstream', () => {
    const tolerations: Toleration[] = [{ operator: 'Exists' }, { key: unreachable.key, operator: 'Exists', tolerationSeconds: 5 }];
    expect(evictionTime([unreachable], tolerations, added)).toEqual({ kind: 'never' });
  });

  it('treats zero or negative tolerationSeconds as at once', () => {
    expect(evictionTime([unreachable], [{ operator: 'Exists', tolerationSeconds: -5 }], added)).toEqual({ kind: 'at', atMs: T0 });
  });
});

describe('noExecuteTaints', () => {
  it('keeps only NoExecute taints', () => {
    expect(noExecuteTaints([unreachable, { key: 'x', effect: 'NoSchedule' }])).toEqual([unreachable]);
    expect(noExecuteTaints(undefined)).toEqual([]);
  });
});
