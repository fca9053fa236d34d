import { describe, expect, it } from 'vitest';
import { findWatchKnee, judgeStep, type KneeStep } from './watch_knee.js';

const latency = { count: 1, minMs: 1, meanMs: 1, p50Ms: 1, p90Ms: 1, p99Ms: 1, p999Ms: 1, maxMs: 1 };

/** A server whose puts keep up to `putLimit`/s and whose delivery keeps up to `eventLimit` events/s. */
function server(putLimit: number, eventLimit: number, watchers = 10): (rate: number) => Promise<KneeStep> {
  return async (putRate) => {
    const putsPerSecond = Math.min(putRate, putLimit);
    return { putRate, putsPerSecond, eventsPerSecond: Math.min(putsPerSecond * watchers, eventLimit), watchers, eventsMissing: 0, failed: 0, latency };
  };
}

describe('the watch knee', () => {
  it('doubles while delivery keeps up, then tries the midpoint', async () => {
    const result = await findWatchKnee(100, 10_000, server(100_000, 5_000));
    expect(result.steps.map((step) => step.putRate)).toEqual([100, 200, 400, 800, 600]);
    expect(result.steps.map((step) => step.fellBehind)).toEqual([undefined, undefined, undefined, 'delivery', 'delivery']);
    expect(result.knee?.putRate).toBe(400);
    expect(result.limitedBy).toBe('delivery');
  });

  it('names the puts when the write path falls behind first', async () => {
    const result = await findWatchKnee(100, 10_000, server(250, 1_000_000));
    expect(result.knee?.putRate).toBe(200);
    expect(result.limitedBy).toBe('puts');
  });

  it('stops at the highest rate asked for, with no limit found', async () => {
    const result = await findWatchKnee(100, 400, server(100_000, 1_000_000));
    expect(result.steps.map((step) => step.putRate)).toEqual([100, 200, 400]);
    expect(result.knee?.putRate).toBe(400);
    expect(result.limitedBy).toBeUndefined();
  });

  it('reports no knee when the first rate already falls behind', async () => {
    const result = await findWatchKnee(100, 10_000, server(50, 1_000_000));
    expect(result.knee).toBeUndefined();
    expect(result.steps).toHaveLength(1);
    expect(result.limitedBy).toBe('puts');
  });

  it('judges late events as delivery falling behind, and failed requests as errors', () => {
    const base: KneeStep = { putRate: 100, putsPerSecond: 100, eventsPerSecond: 1000, watchers: 10, eventsMissing: 0, failed: 0, latency };
    expect(judgeStep(base).fellBehind).toBeUndefined();
    expect(judgeStep({ ...base, eventsMissing: 3 }).fellBehind).toBe('delivery');
    expect(judgeStep({ ...base, failed: 1 }).fellBehind).toBe('errors');
    expect(judgeStep({ ...base, eventsPerSecond: 850 }).fellBehind).toBe('delivery');
  });
});
