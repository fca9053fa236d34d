import { describe, expect, it } from 'vitest';
import { canonicalJson, mergeStatus } from './status_manager.js';
import { defaultPullPolicy, goDuration, shouldRestart } from './pod_worker.js';

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

describe('pod worker rules', () => {
  it('restart policies', () => {
    expect([shouldRestart('Always', 0), shouldRestart('Always', 1)]).toEqual([true, true]);
    expect([shouldRestart('OnFailure', 0), shouldRestart('OnFailure', 137)]).toEqual([false, true]);
    expect([shouldRestart('Never', 0), shouldRestart('Never', 1)]).toEqual([false, false]);
  });

  it('image pull policy defaults as the API\'s: Always for latest or no tag, else IfNotPresent', () => {
    expect(defaultPullPolicy('busybox')).toBe('Always');
    expect(defaultPullPolicy('busybox:latest')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/busybox')).toBe('Always');
    expect(defaultPullPolicy('k8ts/http-echo:1.0')).toBe('IfNotPresent');
    expect(defaultPullPolicy('busybox@sha256:abc')).toBe('IfNotPresent');
  });

  it('durations as Go prints them', () => {
    expect([goDuration(12), goDuration(1250)]).toEqual(['12ms', '1.25s']);
  });
});
