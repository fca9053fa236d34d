import { sleep, type Clock } from '@k8ts/base';
import type { Logger } from 'pino';

/**
 * Runs `pass` now and then `periodMs` after each pass ends (apimachinery's wait.UntilWithContext:
 * passes never overlap), until `signal` aborts. A pass that throws is logged; the next one runs.
 */
export async function repeatUntilAborted(clock: Clock, periodMs: number, signal: AbortSignal, logger: Logger, what: string, pass: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    try {
      await pass();
    } catch (error) {
      logger.error({ err: error, pass: what }, 'periodic pass failed');
    }
    await sleep(clock, periodMs, signal);
  }
}

/** Runs `work` over `items` with at most `limit` at once (client-go's ParallelizeUntil). */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
