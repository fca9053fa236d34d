import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import { InvalidSpecError, maxSurge, maxUnavailable, resolveFenceposts, scaledValue } from './fenceposts.js';

function deployment(replicas: number, maxSurgeValue: number | string, maxUnavailableValue: number | string, type: 'RollingUpdate' | 'Recreate' = 'RollingUpdate'): Deployment {
  return {
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {},
      strategy: type === 'Recreate' ? { type } : { type, rollingUpdate: { maxSurge: maxSurgeValue, maxUnavailable: maxUnavailableValue } },
    },
  };
}

describe('maxSurge and maxUnavailable (upstream ResolveFenceposts)', () => {
  test('the 25% defaults of 10 replicas: surge rounds up to 3, unavailable down to 2', () => {
    expect(resolveFenceposts('25%', '25%', 10)).toEqual([3, 2]);
  });

  test('percentages of small counts: 25% of 1 is 1 surge and 0 unavailable', () => {
    expect(resolveFenceposts('25%', '25%', 1)).toEqual([1, 0]);
    expect(resolveFenceposts('50%', '50%', 3)).toEqual([2, 1]);
  });

  test('both resolving to 0 makes maxUnavailable 1, so a rollout can still move', () => {
    expect(resolveFenceposts(0, '10%', 5)).toEqual([0, 1]);
    expect(resolveFenceposts('0%', '0%', 100)).toEqual([0, 1]);
  });

  test('absolute numbers are taken as they are', () => {
    expect(resolveFenceposts(3, 2, 10)).toEqual([3, 2]);
  });

  test('maxUnavailable never exceeds the replicas, and is 0 for 0 replicas', () => {
    expect(maxUnavailable(deployment(2, 0, 5))).toBe(2);
    expect(maxUnavailable(deployment(0, 1, 1))).toBe(0);
    expect(maxSurge(deployment(0, '25%', '25%'))).toBe(0);
  });

  test('Recreate has neither surge nor unavailability', () => {
    expect(maxSurge(deployment(10, 3, 2, 'Recreate'))).toBe(0);
    expect(maxUnavailable(deployment(10, 3, 2, 'Recreate'))).toBe(0);
  });

  test('a string that is not a percentage is refused as an invalid spec', () => {
    expect(() => scaledValue('3', 10, true)).toThrow(InvalidSpecError);
    expect(() => scaledValue('x%', 10, true)).toThrow(/invalid value/);
  });
});
