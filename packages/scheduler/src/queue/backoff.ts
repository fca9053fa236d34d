/** How long a failed pod waits before it may be tried again: doubling per attempt, capped. */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** No attempt yet → no wait; then initial, 2×initial, 4×initial, ... up to max. */
export function backoffDurationMs(attempts: number, options: BackoffOptions): number {
  if (attempts <= 0) return 0;
  let duration = options.initialMs;
  for (let i = 1; i < attempts; i++) {
    if (duration >= options.maxMs - duration) return options.maxMs;
    duration += duration;
  }
  return Math.min(duration, options.maxMs);
}
