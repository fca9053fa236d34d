import type { LatencySummary } from './stats.js';

/**
 * The watch knee: the put rate (with a fixed number of watchers) past which event delivery stops
 * keeping up. A load generator's offered rate says nothing about the server; this raises the
 * offered rate step by step until a step falls behind, then tries the midpoint once.
 *
 * A step keeps up when the puts were acknowledged at (nearly) the offered rate and every watcher
 * received events at (nearly) the rate they were written. When delivery falls behind, the backlog
 * and with it the put → event latency grow for as long as the step runs, so the delivered rate over
 * the step falls short of the written one; a constant extra latency does not (it shifts the window).
 */

/** What one step measured. */
export interface KneeStep {
  readonly putRate: number;
  readonly putsPerSecond: number;
  readonly eventsPerSecond: number;
  readonly watchers: number;
  readonly eventsMissing: number;
  readonly failed: number;
  readonly latency: LatencySummary;
}

export type KneeLimit = 'puts' | 'delivery' | 'errors';

export interface JudgedStep extends KneeStep {
  /** Undefined when the step kept up; otherwise what fell behind. */
  readonly fellBehind: KneeLimit | undefined;
}

export interface KneeResult {
  readonly steps: readonly JudgedStep[];
  /** The highest put rate that kept up (undefined: not even the first). */
  readonly knee: JudgedStep | undefined;
  /** What fell behind first past the knee; undefined when the last rate tried still kept up. */
  readonly limitedBy: KneeLimit | undefined;
}

/** How close to the asked rate counts as keeping it (a step's start-up and drain are inside it). */
export const KEPT_FRACTION = 0.9;

export function judgeStep(step: KneeStep): JudgedStep {
  let fellBehind: KneeLimit | undefined;
  if (step.failed > 0) fellBehind = 'errors';
  // Events still missing when the step's time ran out were late, not lost (the watch test reports loss).
  else if (step.eventsMissing > 0) fellBehind = 'delivery';
  else if (step.putsPerSecond < KEPT_FRACTION * step.putRate) fellBehind = 'puts';
  else if (step.eventsPerSecond < KEPT_FRACTION * step.watchers * step.putsPerSecond) fellBehind = 'delivery';
  return { ...step, fellBehind };
}

/**
 * Runs steps at startRate, doubling while they keep up (up to maxRate), then once at the midpoint
 * between the last rate that kept up and the first that did not.
 */
export async function findWatchKnee(startRate: number, maxRate: number, runStep: (putRate: number) => Promise<KneeStep>): Promise<KneeResult> {
  const steps: JudgedStep[] = [];
  let good: JudgedStep | undefined;
  let bad: JudgedStep | undefined;
  for (let rate = startRate; rate <= maxRate; rate *= 2) {
    const step = judgeStep(await runStep(rate));
    steps.push(step);
    if (step.fellBehind !== undefined) {
      bad = step;
      break;
    }
    good = step;
  }
  if (good !== undefined && bad !== undefined) {
    const middle = Math.round((good.putRate + bad.putRate) / 2);
    const step = judgeStep(await runStep(middle));
    steps.push(step);
    if (step.fellBehind === undefined) good = step;
    else bad = step;
  }
  return { steps, knee: good, limitedBy: bad?.fellBehind };
}

/**
 * findWatchKnee over a test that gives one result per rate: `stepOf` reads a step from a result.
 * Returns the search, the result to show (the knee's step, else the first step's), its rate (0
 * without a knee) and the failures of every step.
 */
export async function searchKnee<R extends { readonly perSecond: number; readonly failed: number }>(
  startRate: number,
  maxRate: number,
  runAt: (rate: number) => Promise<R>,
  stepOf: (rate: number, result: R) => KneeStep,
): Promise<{ readonly knee: KneeResult; readonly shown: R; readonly firstRate: number; readonly perSecond: number; readonly failed: number }> {
  const results = new Map<number, R>();
  const knee = await findWatchKnee(startRate, maxRate, async (rate) => {
    const result = await runAt(rate);
    results.set(rate, result);
    return stepOf(rate, result);
  });
  const firstRate = knee.steps[0]?.putRate ?? startRate;
  const shown = results.get(knee.knee?.putRate ?? firstRate) as R;
  const failed = [...results.values()].reduce((sum, result) => sum + result.failed, 0);
  return { knee, shown, firstRate, perSecond: knee.knee === undefined ? 0 : shown.perSecond, failed };
}
