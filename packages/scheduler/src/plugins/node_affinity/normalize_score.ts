/**
 * The scheduler's default NormalizeScore (kube's helper.DefaultNormalizeScore): scales scores from
 * [0, max(scores)] to [0, maxPriority] with integer division; `reverse` turns "more is worse" counts
 * (intolerable taints) into scores where less is better. All-zero scores stay 0, or all become
 * maxPriority when reversed. Shared by NodeAffinity and TaintToleration.
 */
import type { NodeScore } from '../../framework/interfaces.js';
import { Status } from '../../framework/status.js';

export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: NodeScore[]): Status {
  const highest = scores.reduce((max, { score }) => Math.max(max, score), 0);
  if (highest === 0) {
    if (reverse) for (const entry of scores) entry.score = maxPriority;
    return Status.success();
  }
  for (const entry of scores) {
    const scaled = Math.trunc((maxPriority * entry.score) / highest);
    entry.score = reverse ? maxPriority - scaled : scaled;
  }
  return Status.success();
}
