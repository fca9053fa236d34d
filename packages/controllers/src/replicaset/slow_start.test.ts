import { describe, expect, test } from 'vitest';
import { slowStartBatch } from './slow_start.js';

/** Runs slowStartBatch, recording how many calls each batch made at once. */
async function run(count: number, failOnCall?: number): Promise<{ batches: number[]; successes: number; error: unknown }> {
  const batches: number[] = [];
  let calls = 0;
  let inBatch = 0;
  const result = await slowStartBatch(count, 1, async () => {
    const call = ++calls;
    inBatch++;
    await Promise.resolve(); // every call of a batch starts before any finishes
    if (inBatch > 0) {
      batches.push(inBatch);
      inBatch = 0;
    }
    if (call === failOnCall) throw new Error(`call ${call} refused`);
  });
  return { batches, successes: result.successes, error: result.error };
}

describe('slow start (upstream slowStartBatch)', () => {
  test('batches of 1, 2, 4, 8, … until the count is reached', async () => {
    expect(await run(20)).toEqual({ batches: [1, 2, 4, 8, 5], successes: 20, error: undefined });
    expect((await run(1)).batches).toEqual([1]);
    expect((await run(0)).batches).toEqual([]);
  });

  test('a failure ends the run after its batch: one request, not hundreds, against a refusing server', async () => {
    const first = await run(500, 1);
    expect(first.batches).toEqual([1]);
    expect(first.successes).toBe(0);
    expect((first.error as Error).message).toBe('call 1 refused');
    // A failure in the third batch (calls 4..7): that batch finishes, then nothing more.
    const third = await run(500, 5);
    expect(third.batches).toEqual([1, 2, 4]);
    expect(third.successes).toBe(6);
  });
});
