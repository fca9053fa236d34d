/**
 * Upstream's slowStartBatch: calls `fn` `count` times in batches of 1, 2, 4, … (from
 * `initialBatchSize`), the calls of a batch concurrently. A batch with a failure ends the run after
 * the batch finishes, so a ReplicaSet that cannot create pods (quota, a refused template) sends one
 * request per sync, not hundreds, and writes one FailedCreate event, not hundreds.
 */
export interface SlowStartResult {
  /** Calls that succeeded. */
  readonly successes: number;
  /** The first failure, when a batch had one (the remaining batches were skipped). */
  readonly error?: unknown;
}

/** Upstream's SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<SlowStartResult> {
  let remaining = count;
  let successes = 0;
  for (let batchSize = Math.min(remaining, initialBatchSize); batchSize > 0; batchSize = Math.min(2 * batchSize, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batchSize }, () => fn()));
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    successes += batchSize - failures.length;
    if (failures.length > 0) return { successes, error: failures[0]?.reason };
    remaining -= batchSize;
  }
  return { successes };
}
