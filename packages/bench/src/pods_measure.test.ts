import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { PodTimelines, allContainersStarted } from './pods_measure.js';

function pod(name: string, state: { nodeName?: string; running?: string[]; ready?: boolean } = {}): Pod {
  return {
    metadata: { name },
    spec: { ...(state.nodeName ? { nodeName: state.nodeName } : {}), containers: [{ name: 'a' }, { name: 'b' }] },
    status: {
      containerStatuses: (state.running ?? []).map((name) => ({ name, image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } })),
      conditions: [{ type: 'Ready', status: state.ready ? 'True' : 'False' }],
    },
  };
}

describe('pod timelines', () => {
  it('counts a pod started only once every container runs, and measures from the create call', () => {
    expect(allContainersStarted(pod('p', { running: ['a'] }))).toBe(false);
    expect(allContainersStarted(pod('p', { running: ['a', 'b'] }))).toBe(true);
    const timelines = new PodTimelines();
    timelines.created('p', 1000);
    timelines.observe(pod('p', { nodeName: 'n' }), 1100);
    timelines.observe(pod('p', { nodeName: 'n', running: ['a'] }), 1200);
    timelines.observe(pod('p', { nodeName: 'n', running: ['a', 'b'], ready: true }), 1350);
    timelines.observe(pod('p', { nodeName: 'n', running: ['a', 'b'], ready: true }), 1900); // a later update changes nothing
    timelines.observe(pod('stranger', { nodeName: 'n', running: ['a', 'b'] }), 1400); // not ours
    timelines.deleteRequested('p', 2000);
    timelines.removed(pod('p'), 2250);
    const m = timelines.measurement();
    expect([m.created, m.started, m.ready, m.gone]).toEqual([1, 1, 1, 1]);
    expect([m.startup.p50Ms, m.scheduling.p50Ms, m.nodeStart.p50Ms, m.deletion.p50Ms]).toEqual([350, 100, 250, 250]);
    expect(m.allReadyMs).toBe(350);
  });

  it('does not wait for pods deleted before they started, and forgets failed creates', () => {
    const timelines = new PodTimelines();
    timelines.created('early', 0);
    timelines.created('failed', 0);
    timelines.forget('failed');
    expect(timelines.waitingToStart()).toBe(1);
    timelines.removed(pod('early'), 10);
    expect(timelines.waitingToStart()).toBe(0);
    expect(timelines.measurement().startup.count).toBe(0);
    expect(timelines.measurement().allReadyMs).toBeUndefined();
  });
});
