import { describe, expect, it } from 'vitest';
import { LatencyRecorder, percentile, ratePerSecond, summarizeLatencies } from './stats.js';

describe('percentile (nearest rank)', () => {
  const oneToHundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

  it('is the smallest sample with at least that fraction of samples at or below it', () => {
    expect(percentile(oneToHundred, 0.5)).toBe(50);
    expect(percentile(oneToHundred, 0.9)).toBe(90);
    expect(percentile(oneToHundred, 0.99)).toBe(99);
    expect(percentile(oneToHundred, 0.999)).toBe(100); // rank ceil(99.9) = 100
    expect(percentile(oneToHundred, 1)).toBe(100);
    expect(percentile(oneToHundred, 0.001)).toBe(1);
  });

  it('rounds the rank up, never interpolates', () => {
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(20); // rank 2
    expect(percentile([10, 20, 30, 40], 0.51)).toBe(30); // rank 3
    expect(percentile([10, 20, 30], 0.5)).toBe(20); // rank ceil(1.5) = 2
  });

  it('p999 of 1,000 samples is the 999th smallest, not the largest', () => {
    const samples = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(samples, 0.999)).toBe(999);
    expect(percentile(samples, 0.99)).toBe(990);
  });

  it('of one sample is that sample; of none is NaN', () => {
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([7], 0.999)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('refuses fractions outside (0, 1]', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('summarizeLatencies', () => {
  it('sorts numerically (not as strings) and leaves its input alone', () => {
    const samples = [100, 9, 20, 3, 1000];
    const summary = summarizeLatencies(samples);
    expect(samples).toEqual([100, 9, 20, 3, 1000]);
    expect(summary).toMatchObject({ count: 5, minMs: 3, p50Ms: 20, p90Ms: 1000, maxMs: 1000 });
    expect(summary.meanMs).toBeCloseTo(226.4);
  });

  it('reports a slow tail: 1 slow request in 1,000 moves p999 but not p99', () => {
    const samples = Array.from({ length: 1000 }, () => 1);
    samples[500] = 250;
    samples[501] = 500;
    const summary = summarizeLatencies(samples);
    expect(summary.p99Ms).toBe(1);
    expect(summary.p999Ms).toBe(250);
    expect(summary.maxMs).toBe(500);
  });

  it('is all NaN with zero count when nothing was measured', () => {
    const summary = summarizeLatencies([]);
    expect(summary.count).toBe(0);
    expect(summary.p50Ms).toBeNaN();
    expect(summary.maxMs).toBeNaN();
  });

  it('refuses negative or non-finite samples', () => {
    expect(() => summarizeLatencies([1, -2])).toThrow(RangeError);
    expect(() => summarizeLatencies([1, Number.NaN])).toThrow(RangeError);
    expect(() => summarizeLatencies([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});

describe('LatencyRecorder', () => {
  it('summarizes only what was recorded, and refuses to grow past its capacity', () => {
    const recorder = new LatencyRecorder(3);
    recorder.record(5);
    recorder.record(1);
    expect(recorder.summary()).toMatchObject({ count: 2, minMs: 1, maxMs: 5, p50Ms: 1 });
    recorder.record(3);
    expect(() => recorder.record(4)).toThrow(/full/);
  });
});

describe('ratePerSecond', () => {
  it('is count per elapsed second, and 0 when no time passed', () => {
    expect(ratePerSecond(500, 250)).toBe(2000);
    expect(ratePerSecond(10, 0)).toBe(0);
  });
});
