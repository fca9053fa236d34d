/**
 * DefaultPreemptionArgs: how many nodes preemption dry-runs before it picks one. It tries at least
 * `minCandidateNodesAbsolute` nodes, or `minCandidateNodesPercentage` of the nodes preemption could
 * help when that is more, and never more than those nodes.
 */
export interface DefaultPreemptionArgs {
  /** 0..100; default 10. */
  minCandidateNodesPercentage: number;
  /** >= 0; default 100. */
  minCandidateNodesAbsolute: number;
}

export const DEFAULT_PREEMPTION_ARGS: Readonly<DefaultPreemptionArgs> = {
  minCandidateNodesPercentage: 10,
  minCandidateNodesAbsolute: 100,
};

/** The plugin's args with defaults filled in; throws with upstream's validation messages. */
export function parseDefaultPreemptionArgs(args: Readonly<Record<string, unknown>>): DefaultPreemptionArgs {
  const parsed: DefaultPreemptionArgs = {
    minCandidateNodesPercentage: integerArg(args, 'minCandidateNodesPercentage', DEFAULT_PREEMPTION_ARGS.minCandidateNodesPercentage),
    minCandidateNodesAbsolute: integerArg(args, 'minCandidateNodesAbsolute', DEFAULT_PREEMPTION_ARGS.minCandidateNodesAbsolute),
  };
  const errors = validateDefaultPreemptionArgs(parsed);
  if (errors.length > 0) throw new Error(errors.length === 1 ? errors.join('') : `[${errors.join(', ')}]`);
  return parsed;
}

export function validateDefaultPreemptionArgs({ minCandidateNodesPercentage: percentage, minCandidateNodesAbsolute: absolute }: DefaultPreemptionArgs): string[] {
  const errors: string[] = [];
  if (percentage < 0 || percentage > 100) errors.push(invalid('minCandidateNodesPercentage', percentage, 'not in valid range [0, 100]'));
  if (absolute < 0) errors.push(invalid('minCandidateNodesAbsolute', absolute, 'not in valid range [0, inf)'));
  if (percentage === 0 && absolute === 0) {
    errors.push(
      invalid('minCandidateNodesPercentage', percentage, 'cannot be zero at the same time as minCandidateNodesAbsolute'),
      invalid('minCandidateNodesAbsolute', absolute, 'cannot be zero at the same time as minCandidateNodesPercentage'),
    );
  }
  return errors;
}

/** How many candidates the dry run looks for among `numNodes` nodes (integer percent, as upstream). */
export function numCandidates(args: DefaultPreemptionArgs, numNodes: number): number {
  const byPercentage = Math.floor((numNodes * args.minCandidateNodesPercentage) / 100);
  return Math.min(Math.max(byPercentage, args.minCandidateNodesAbsolute), numNodes);
}

function integerArg(args: Readonly<Record<string, unknown>>, name: keyof DefaultPreemptionArgs, fallback: number): number {
  const value = args[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(invalid(name, value, 'must be an integer'));
  return value;
}

function invalid(field: string, value: unknown, detail: string): string {
  return `${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
}
