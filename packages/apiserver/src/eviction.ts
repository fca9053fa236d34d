/**
 * pods/eviction: a pod's delete that respects PodDisruptionBudgets, as kube-apiserver's
 * EvictionREST does (pkg/registry/core/pod/storage/eviction.go).
 *
 * The rules:
 * - A terminal (Succeeded/Failed), Pending or already-deleting pod is deleted without looking at
 *   budgets: it disrupts nothing more.
 * - Otherwise the budgets of the pod's namespace whose selector selects it decide: none, the pod is
 *   deleted; more than one, a 500 Status (upstream does not support it); one, its status must allow a
 *   disruption: `observedGeneration` must have caught up with the budget's generation and
 *   `disruptionsAllowed` be above 0, else 429 TooManyRequests with a DisruptionBudget cause. An
 *   allowed eviction decrements `disruptionsAllowed` and records the pod in `disruptedPods` in one
 *   conditional status write of the budget (a conflict retries with the fresh budget) before the
 *   pod is deleted; the disruption controller later recomputes the status from the pods.
 * - A pod that is not Ready is not guarded when the budget's `unhealthyPodEvictionPolicy` is
 *   AlwaysAllow, or (IfHealthyBudget, the default) when the budget already has its desired healthy
 *   pods; its delete then requires the pod's resourceVersion to be unchanged (a pod turning Ready
 *   meanwhile makes it a 429 the client retries).
 * - Before the delete, the pod gets the DisruptionTarget condition (reason EvictionByEvictionAPI);
 *   the Eviction's deleteOptions (grace period, preconditions, dryRun) pass through to the delete.
 */
import {
  createdStatus,
  DISRUPTION_BUDGET_CAUSE,
  apiErrors,
  budgetSelectsPod,
  findResource,
  formatTime,
  isPodReady,
  withDisruptionAllowedCondition,
  type ResourceType,
  type Status,
  type SuccessStatus,
} from '@k8ts/apimachinery';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KubeObject } from './object_store.js';
import type { DeleteOptions, ResourceService } from './resource_service.js';

const PODS = findResource('', 'v1', 'pods') as ResourceType;
const BUDGETS = findResource('policy', 'v1', 'poddisruptionbudgets') as ResourceType;
const BUDGET_FOR_ERRORS = { group: 'policy', resource: 'poddisruptionbudget' };
/** Upstream's MaxDisruptedPodSize: evictions approved but not yet seen by the disruption controller. */
const MAX_DISRUPTED_PODS = 2000;
/** Upstream's EvictionsRetry steps. */
const CONFLICT_RETRIES = 20;
const EVICTION_VERSIONS = ['policy/v1', 'policy/v1beta1'];

interface EvictionBody {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly deleteOptions?: {
    readonly gracePeriodSeconds?: number;
    readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
    readonly propagationPolicy?: DeleteOptions['propagationPolicy'];
    readonly dryRun?: readonly string[];
  };
}

/** What the handler answers: the Status and its HTTP code. */
export interface EvictionAnswer {
  readonly code: number;
  readonly status: Status | SuccessStatus | (Omit<Status, 'reason'> & { reason?: string });
}

export async function evictPod(service: ResourceService, namespace: string, name: string, body: unknown, dryRunQuery: boolean, now: () => Date = () => new Date()): Promise<EvictionAnswer> {
  const eviction = checkEviction(body, namespace, name);
  const options = deleteOptionsOf(eviction, dryRunQuery);
  const clientResourceVersion = options.preconditions?.resourceVersion;

  // Pods whose eviction disrupts nothing more are deleted straight away.
  let pod: Pod | undefined;
  for (let attempt = 0; ; attempt++) {
    pod = (await service.get(PODS, namespace, name)) as Pod;
    if (!canIgnoreBudgets(pod)) break;
    const enforced = shouldEnforceResourceVersion(pod) && clientResourceVersion === undefined ? withResourceVersion(options, pod) : options;
    try {
      await markAndDelete(service, namespace, name, enforced, now);
      return success();
    } catch (error) {
      if (!isConflict(error) || clientResourceVersion !== undefined || attempt >= CONFLICT_RETRIES) throw error;
    }
  }

  const budgets = ((await service.list(BUDGETS, namespace, {})).items as PodDisruptionBudget[]).filter((budget) => budgetSelectsPod(budget, pod));
  if (budgets.length > 1) {
    return {
      code: 500,
      status: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
        code: 500,
      },
    };
  }
  const budget = budgets[0];
  let unguarded = false;
  if (budget !== undefined) {
    if (!isPodReady(pod)) {
      const policy = budget.spec?.unhealthyPodEvictionPolicy;
      const status = budget.status;
      if (policy === 'AlwaysAllow') unguarded = true;
      else if (status !== undefined && status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) unguarded = true;
    }
    if (!unguarded) await checkAndDecrement(service, namespace, name, budget, options.dryRun === true, now);
  }

  const deleteOptions = unguarded ? withResourceVersion(options, pod) : options;
  try {
    await markAndDelete(service, namespace, name, deleteOptions, now);
  } catch (error) {
    // The unready pod changed since it was judged: the client should try again.
    if (isConflict(error) && unguarded && clientResourceVersion === undefined) throw tooManyRequests(stillProcessing(budget?.metadata?.name ?? ''), 10);
    throw error;
  }
  return success();
}

function checkEviction(body: unknown, namespace: string, name: string): EvictionBody {
  const eviction = (body ?? {}) as EvictionBody;
  if (typeof eviction !== 'object' || Array.isArray(eviction)) throw apiErrors.badRequest('not a Eviction object');
  if (eviction.kind !== undefined && eviction.kind !== 'Eviction') throw apiErrors.badRequest(`not a Eviction object: ${eviction.kind}`);
  if (eviction.apiVersion !== undefined && !EVICTION_VERSIONS.includes(eviction.apiVersion)) {
    throw apiErrors.badRequest(`the API version in the data (${eviction.apiVersion}) does not match the expected API version (policy/v1)`);
  }
  if (eviction.metadata?.name !== name) throw apiErrors.badRequest('name in URL does not match name in Eviction object');
  if (eviction.metadata.namespace !== undefined && eviction.metadata.namespace !== '' && eviction.metadata.namespace !== namespace) {
    throw apiErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  return eviction;
}

/** The Eviction's deleteOptions, with the request's dryRun when the body has none (propagateDryRun). */
function deleteOptionsOf(eviction: EvictionBody, dryRunQuery: boolean): DeleteOptions {
  const given = eviction.deleteOptions ?? {};
  const bodyDryRun = (given.dryRun ?? []).includes('All');
  if (given.dryRun !== undefined && given.dryRun.length > 0 && dryRunQuery !== bodyDryRun) {
    throw apiErrors.badRequest(`Non-matching dry-run options in request and content: [${dryRunQuery ? 'All' : ''}] and [${given.dryRun.join(' ')}]`);
  }
  const preconditions = given.preconditions;
  return {
    dryRun: dryRunQuery || bodyDryRun,
    ...(given.gracePeriodSeconds === undefined || given.gracePeriodSeconds === null ? {} : { gracePeriodSeconds: given.gracePeriodSeconds }),
    ...(given.propagationPolicy ? { propagationPolicy: given.propagationPolicy } : {}),
    ...(preconditions && (preconditions.uid || preconditions.resourceVersion)
      ? {
          preconditions: {
            ...(preconditions.uid ? { uid: preconditions.uid } : {}),
            ...(preconditions.resourceVersion ? { resourceVersion: preconditions.resourceVersion } : {}),
          },
        }
      : {}),
  };
}

function canIgnoreBudgets(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || Boolean(pod.metadata?.deletionTimestamp);
}

function shouldEnforceResourceVersion(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp);
}

function withResourceVersion(options: DeleteOptions, pod: Pod): DeleteOptions {
  return { ...options, preconditions: { ...options.preconditions, ...(pod.metadata?.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}) } };
}

/** Verify the budget allows a disruption and take one, in a conditional write of its status. */
async function checkAndDecrement(service: ResourceService, namespace: string, podName: string, initial: PodDisruptionBudget, dryRun: boolean, now: () => Date): Promise<void> {
  let budget = initial;
  const name = budget.metadata?.name ?? '';
  for (let attempt = 0; ; attempt++) {
    const status = budget.status ?? { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
    if ((status.observedGeneration ?? 0) < (budget.metadata?.generation ?? 0)) throw tooManyRequests(stillProcessing(name), 10);
    if (status.disruptionsAllowed < 0) throw apiErrors.forbidden(BUDGET_FOR_ERRORS, name, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
      throw apiErrors.forbidden(BUDGET_FOR_ERRORS, name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    }
    if (status.disruptionsAllowed === 0) {
      throw tooManyRequests(`The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`);
    }
    if (dryRun) return;
    let next = { ...status, disruptionsAllowed: status.disruptionsAllowed - 1 };
    if (next.disruptionsAllowed === 0) next = withDisruptionAllowedCondition(next, now());
    next = { ...next, disruptedPods: { ...(status.disruptedPods ?? {}), [podName]: formatTime(now()) } };
    try {
      await service.update(BUDGETS, namespace, name, { ...budget, status: next }, 'status');
      return;
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (attempt >= CONFLICT_RETRIES) throw apiErrors.timeout(`couldn't update PodDisruptionBudget "${name}" due to conflicts`);
      budget = (await service.get(BUDGETS, namespace, name)) as PodDisruptionBudget;
    }
  }
}

/** addConditionAndDeletePod: the DisruptionTarget condition (not on a dry run), then the delete. */
async function markAndDelete(service: ResourceService, namespace: string, name: string, options: DeleteOptions, now: () => Date): Promise<void> {
  let deleteOptions = options;
  for (let attempt = 0; !options.dryRun; attempt++) {
    const latest = (await service.get(PODS, namespace, name)) as Pod;
    const preconditions = options.preconditions;
    if (preconditions?.uid && preconditions.uid !== latest.metadata?.uid) {
      throw apiErrors.conflict({ group: '', resource: 'Pod' }, name, `the UID in the precondition (${preconditions.uid}) does not match the UID in record (${latest.metadata?.uid}). The object might have been deleted and then recreated`);
    }
    if (preconditions?.resourceVersion && preconditions.resourceVersion !== latest.metadata?.resourceVersion) {
      throw apiErrors.conflict(
        { group: '', resource: 'Pod' },
        name,
        `the ResourceVersion in the precondition (${preconditions.resourceVersion}) does not match the ResourceVersion in record (${latest.metadata?.resourceVersion}). The object might have been modified`,
      );
    }
    const condition = { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
    const conditions = (latest.status?.conditions ?? []).filter((existing) => existing.type !== condition.type);
    const previous = latest.status?.conditions?.find((existing) => existing.type === condition.type);
    const transition = previous?.status === 'True' ? previous.lastTransitionTime : formatTime(now());
    const marked = { ...latest, status: { ...latest.status, conditions: [...conditions, { ...condition, lastProbeTime: null, lastTransitionTime: transition }] } };
    try {
      const updated = await service.update(PODS, namespace, name, marked as unknown as KubeObject, 'status');
      // Our own write moved the resourceVersion a precondition names.
      if (preconditions?.resourceVersion) deleteOptions = { ...options, preconditions: { ...preconditions, resourceVersion: updated.metadata?.resourceVersion as string } };
      break;
    } catch (error) {
      // Someone else wrote the pod since we read it (the kubelet's status): read it again.
      if (!isConflict(error) || attempt >= CONFLICT_RETRIES) throw error;
    }
  }
  await service.delete(PODS, namespace, name, deleteOptions);
}

function isConflict(error: unknown): boolean {
  return (error as { reason?: string }).reason === 'Conflict';
}

function stillProcessing(name: string): string {
  return `The disruption budget ${name} is still being processed by the server.`;
}

/** Upstream suggests retrying after 10 s while the budget is being processed, and gives no hint otherwise. */
function tooManyRequests(cause: string, retryAfterSeconds = 0): Error {
  return apiErrors.tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", retryAfterSeconds, [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }]);
}

function success(): EvictionAnswer {
  return { code: 201, status: createdStatus() };
}
