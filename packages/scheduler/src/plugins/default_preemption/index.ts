/**
 * DefaultPreemption (PostFilter): when no node passed Filter, finds a node where evicting pods of
 * lower priority lets the pod fit, evicts those victims and nominates the node for the pod; the pod
 * is scheduled there in a later cycle, once the victims are gone.
 *
 * Steps (kube's preemption.Evaluator.Preempt):
 *   1. is the pod eligible to preempt (eligibility.ts);
 *   2. dry run on the nodes that failed Filter with Unschedulable, from a random offset, until enough
 *      candidates are found (dry_run.ts, victims.ts);
 *   3. pick one candidate (pick_node.ts);
 *   4. evict its victims and tell the caller which lower-priority pods nominated to that node should
 *      lose their nomination.
 * Every message it returns starts with "preemption: ", as upstream's.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle_state.js';
import { podPriority, type Handle, type NodeToStatus, type PostFilterPlugin, type PostFilterResult } from '../../framework/interfaces.js';
import { Status } from '../../framework/status.js';
import { DEFAULT_PREEMPTION_ARGS, numCandidates, parseDefaultPreemptionArgs, type DefaultPreemptionArgs } from './args.js';
import { dryRunPreemption, nodesPreemptionMayHelp, type Candidate, type DryRunResult } from './dry_run.js';
import { ineligibilityReason } from './eligibility.js';
import { noCandidateMessage } from './message.js';
import { pickCandidate } from './pick_node.js';

export { DEFAULT_PREEMPTION_ARGS, numCandidates, parseDefaultPreemptionArgs, validateDefaultPreemptionArgs, type DefaultPreemptionArgs } from './args.js';
export { dryRunPreemption, nodesPreemptionMayHelp, type Candidate, type DryRunResult } from './dry_run.js';
export { ineligibilityReason, terminatingByPreemption, PREEMPT_NEVER_MESSAGE, TERMINATING_VICTIM_MESSAGE } from './eligibility.js';
export { moreImportantPod, podStartTime } from './importance.js';
export { noCandidateMessage, NOT_HELPFUL_MESSAGE } from './message.js';
export { groupByPdbViolation } from './pdb.js';
export { pickCandidate } from './pick_node.js';
export { canPreempt, selectVictimsOnNode, NO_VICTIMS_MESSAGE, type NodeVictims } from './victims.js';

export const DEFAULT_PREEMPTION_NAME = 'DefaultPreemption';

export interface DefaultPreemptionOptions {
  /** An integer in [0, n): where the dry run starts among the nodes. Default: Math.random. */
  randomInt?: (n: number) => number;
  /**
   * Receives the pods of lower priority nominated to the chosen node: they may no longer fit there,
   * so the caller should clear their status.nominatedNodeName (and requeue them). Failures are
   * ignored, as upstream: not clearing only delays those pods. Default: nothing is done.
   */
  clearNominatedNodeName?: (pods: readonly Pod[]) => Promise<void> | void;
}

type PostFilterOutcome = { result?: PostFilterResult; status: Status };

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = DEFAULT_PREEMPTION_NAME;

  constructor(
    private readonly handle: Handle,
    readonly args: DefaultPreemptionArgs = { ...DEFAULT_PREEMPTION_ARGS },
    private readonly options: DefaultPreemptionOptions = {},
  ) {}

  async postFilter(state: CycleState, pod: Pod, filteredNodeStatus: NodeToStatus): Promise<PostFilterOutcome> {
    const outcome = await this.preempt(state, pod, filteredNodeStatus);
    const message = outcome.status.message();
    if (message === '') return outcome;
    return { ...outcome, status: new Status(outcome.status.code, [`preemption: ${message}`]) };
  }

  private async preempt(state: CycleState, pod: Pod, filteredNodeStatus: NodeToStatus): Promise<PostFilterOutcome> {
    const snapshot = this.handle.snapshot();
    const reason = ineligibilityReason(pod, snapshot, filteredNodeStatus);
    if (reason !== undefined) return { status: Status.unschedulable(reason) };

    const allNodes = snapshot.list();
    if (allNodes.length === 0) return { status: Status.error('no nodes available') };
    const { candidates, nodeStatuses, errors } = this.findCandidates(state, pod, filteredNodeStatus);
    if (candidates.length === 0) {
      if (errors.length > 0) return { status: Status.error(errors.length === 1 ? errors.join('') : `[${errors.join(', ')}]`) };
      // An empty nomination clears one the pod may carry from an earlier preemption.
      return { result: { nominatedNodeName: '' }, status: Status.unschedulable(noCandidateMessage(allNodes.length, nodeStatuses)) };
    }

    const best = pickCandidate(candidates);
    if (best === undefined) return { status: Status.unschedulable('no candidate node for preemption') };
    const prepared = await this.prepareCandidate(best, pod);
    if (!prepared.isSuccess()) return { status: prepared };
    return { result: { nominatedNodeName: best.nodeName }, status: Status.success() };
  }

  private findCandidates(state: CycleState, pod: Pod, filteredNodeStatus: NodeToStatus): DryRunResult {
    const nodes = nodesPreemptionMayHelp(this.handle.snapshot().list(), filteredNodeStatus);
    if (nodes.length === 0) return { candidates: [], nodeStatuses: new Map(), errors: [] };
    const randomInt = this.options.randomInt ?? ((n: number) => Math.floor(Math.random() * n));
    return dryRunPreemption(this.handle, state, pod, nodes, randomInt(nodes.length), numCandidates(this.args, nodes.length));
  }

  /** Evicts the victims (those already terminating need no call), then hands over stale nominations. */
  private async prepareCandidate(candidate: Candidate, pod: Pod): Promise<Status> {
    const toEvict = candidate.victims.pods.filter((victim) => !victim.metadata?.deletionTimestamp);
    try {
      await Promise.all(toEvict.map((victim) => this.handle.evictPod(victim, pod)));
    } catch (error) {
      return Status.error(error instanceof Error ? error.message : String(error));
    }
    const stale = lowerPriorityNominatedPods(this.handle, pod, candidate.nodeName);
    if (stale.length > 0 && this.options.clearNominatedNodeName) {
      try {
        await this.options.clearNominatedNodeName(stale);
      } catch {
        // Not critical: those pods are retried later anyway.
      }
    }
    return Status.success();
  }
}

/** Pods nominated to `nodeName` with lower priority than `pod`: the room they were promised is taken. */
export function lowerPriorityNominatedPods(handle: Handle, pod: Pod, nodeName: string): Pod[] {
  return handle
    .nominatedPodsForNode(nodeName)
    .map((info) => info.pod)
    .filter((nominee) => podPriority(nominee) < podPriority(pod));
}

/** The registry's factory: args as in KubeSchedulerConfiguration (defaults filled, validated). */
export function newDefaultPreemption(args: Readonly<Record<string, unknown>>, handle: Handle, options: DefaultPreemptionOptions = {}): DefaultPreemption {
  return new DefaultPreemption(handle, parseDefaultPreemptionArgs(args), options);
}
