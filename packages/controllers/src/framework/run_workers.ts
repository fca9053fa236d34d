import { runWorker, type RateLimitingQueue, type SharedInformerFactory } from '@k8ts/client';
import type { Logger } from 'pino';

/**
 * The common body of a controller's `run`: wait for the informers to sync, start `workers` workers on
 * `queue` (each forgets a key on success and requeues it rate-limited on failure), and when `signal`
 * aborts shut the queue down and wait for the workers to finish their current key.
 */
export async function runWorkers(options: {
  readonly informers: SharedInformerFactory;
  readonly queue: RateLimitingQueue<string>;
  readonly workers: number;
  readonly sync: (key: string) => Promise<void>;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}): Promise<void> {
  const { queue, signal } = options;
  if (signal.aborted) return;
  const stop = (): void => queue.shutDown();
  signal.addEventListener('abort', stop, { once: true });
  try {
    if (!(await options.informers.waitForCacheSync())) return;
    const workers = Array.from({ length: Math.max(1, options.workers) }, () => runWorker(queue, options.sync, options.logger));
    await Promise.all(workers);
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
