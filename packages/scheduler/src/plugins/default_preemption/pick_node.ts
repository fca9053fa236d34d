/**
 * Choosing among the candidate nodes (kube's pickOneNodeForPreemption). Each rule keeps only the
 * nodes that score best on it; the next rule breaks ties:
 *   1. fewest PodDisruptionBudget violations;
 *   2. lowest priority of the most important victim;
 *   3. smallest sum of victim priorities;
 *   4. fewest victims;
 *   5. latest start among the highest-priority victims (disturb the youngest work);
 *   6. the first remaining candidate.
 */
import { podPriority } from '../../framework/interfaces.js';
import type { Candidate } from './dry_run.js';
import { earliestStartOfTopVictims } from './importance.js';

type Score = (candidate: Candidate) => number;

/** Shifts every priority to >= 0 so that more victims never sums smaller (int32 range, as upstream). */
const PRIORITY_SHIFT = 2 ** 31;

const SCORES: readonly Score[] = [
  (c) => -c.victims.numPdbViolations,
  (c) => -podPriority(c.victims.pods[0]!),
  (c) => -c.victims.pods.reduce((sum, pod) => sum + podPriority(pod) + PRIORITY_SHIFT, 0),
  (c) => -c.victims.pods.length,
  (c) => earliestStartOfTopVictims(c.victims.pods),
];

/** The best candidate; undefined only when there is none. Victims are most important first. */
export function pickCandidate(candidates: readonly Candidate[]): Candidate | undefined {
  let remaining = candidates;
  for (const score of SCORES) {
    if (remaining.length <= 1) break;
    remaining = best(remaining, score);
  }
  return remaining[0];
}

function best(candidates: readonly Candidate[], score: Score): Candidate[] {
  let top = Number.NEGATIVE_INFINITY;
  let kept: Candidate[] = [];
  for (const candidate of candidates) {
    const value = score(candidate);
    if (kept.length === 0 || value > top) {
      top = value;
      kept = [candidate];
    } else if (value === top) {
      kept.push(candidate);
    }
  }
  return kept;
}
