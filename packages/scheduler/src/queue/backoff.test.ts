import { describe, expect, it } from 'vitest';
import { backoffDurationMs } from './backoff.js';

describe('backoffDurationMs', () => {
  const options = { initialMs: 1_000, maxMs: 10_000 };
  it.each([
    { attempts: 0, expected: 0 },
    { attempts: 1, expected: 1_000 },
    { attempts: 2, expected: 2_000 },
    { attempts: 3, expected: 4_000 },
    { attempts: 4, expected: 8_000 },
    { attempts: 5, expected: 10_000 },
    { attempts: 1_000, expected: 10_000 },
  ])('after $attempts attempts waits $expected ms', ({ attempts, expected }) => {
    expect(backoffDurationMs(attempts, options)).toBe(expected);
  });
});
