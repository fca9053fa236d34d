import { describe, expect, it } from 'vitest';
import { canonicalJson, mergeStatus } from './status_manager.js';

describe('mergeStatus', () => {
  it('replaces the kubelet\'s conditions and keeps the others (PodScheduled, DisruptionTarget)', () => {
    const merged = mergeStatus(
      { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }, { type: 'DisruptionTarget', status: 'True' }] },
      { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    );
    expect(merged.phase).toBe('Running');
    expect(merged.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'PodScheduled=True', 'DisruptionTarget=True']);
  });

  it('never moves a pod out of a terminal phase', () => {
    expect(mergeStatus({ phase: 'Failed' }, { phase: 'Running' }).phase).toBe('Failed');
    expect(mergeStatus({ phase: 'Succeeded' }, { phase: 'Failed' }).phase).toBe('Failed');
  });

  it('compares statuses whatever the order of their fields', () => {
    expect(canonicalJson({ a: 1, b: { d: [1, { y: 1, x: 2 }], c: 2 } })).toBe(canonicalJson({ b: { c: 2, d: [1, { x: 2, y: 1 }] }, a: 1 }));
  });
});
