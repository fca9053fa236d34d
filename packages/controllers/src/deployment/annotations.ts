/**
 * The annotations a Deployment and its ReplicaSets carry, as upstream's deployment util writes them:
 * - `deployment.kubernetes.io/revision` on each ReplicaSet (and the Deployment): the rollout number,
 *   one more than the highest of the old ReplicaSets whenever a template becomes the new one;
 * - `deployment.kubernetes.io/revision-history` on a ReplicaSet brought back (rollback): its
 *   earlier revisions, comma-separated, at most 2000 characters;
 * - `deployment.kubernetes.io/desired-replicas` and `max-replicas` on each ReplicaSet: the
 *   Deployment's replicas and replicas + maxSurge when it was last scaled, which proportional
 *   scaling reads back;
 * - every other Deployment annotation is copied to its new ReplicaSet (so `kubectl rollout history`
 *   shows `kubernetes.io/change-cause`), except the ones in ANNOTATIONS_NOT_COPIED.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { desiredReplicas, maxSurge } from './fenceposts.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** Upstream keeps the revision history annotation to about 100 revisions. */
export const MAX_REVISION_HISTORY_CHARS = 2000;

export const ANNOTATIONS_NOT_COPIED: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

/** Go's strconv.Atoi on an annotation: undefined when absent or not an integer. */
function intAnnotation(object: { metadata?: { annotations?: Record<string, string> } }, key: string): number | undefined {
  const value = object.metadata?.annotations?.[key];
  if (value === undefined || !/^[+-]?\d+$/.test(value)) return undefined;
  return Number.parseInt(value, 10);
}

/** The revision of a ReplicaSet (or Deployment); 0 when it has none, undefined when unreadable. */
export function revisionOf(object: { metadata?: { annotations?: Record<string, string> } }): number | undefined {
  if (object.metadata?.annotations?.[REVISION_ANNOTATION] === undefined) return 0;
  return intAnnotation(object, REVISION_ANNOTATION);
}

/** The highest revision among `replicaSets` (unreadable ones skipped), 0 for none. */
export function maxRevision(replicaSets: readonly ReplicaSet[]): number {
  let max = 0;
  for (const replicaSet of replicaSets) max = Math.max(max, revisionOf(replicaSet) ?? 0);
  return max;
}

export function desiredReplicasAnnotation(replicaSet: ReplicaSet): number | undefined {
  return intAnnotation(replicaSet, DESIRED_REPLICAS_ANNOTATION);
}

export function maxReplicasAnnotation(replicaSet: ReplicaSet): number | undefined {
  return intAnnotation(replicaSet, MAX_REPLICAS_ANNOTATION);
}

function annotationsOf(object: { metadata?: { annotations?: Record<string, string> } }): Record<string, string> {
  const metadata = (object.metadata ??= {});
  return (metadata.annotations ??= {});
}

/** The desired/max replicas annotations the Deployment's current size asks for. */
export function replicasAnnotationsFor(deployment: Deployment): { desired: string; max: string } {
  const desired = desiredReplicas(deployment);
  return { desired: String(desired), max: String(desired + maxSurge(deployment)) };
}

export function replicasAnnotationsNeedUpdate(replicaSet: ReplicaSet, deployment: Deployment): boolean {
  const wanted = replicasAnnotationsFor(deployment);
  const annotations = replicaSet.metadata?.annotations ?? {};
  return annotations[DESIRED_REPLICAS_ANNOTATION] !== wanted.desired || annotations[MAX_REPLICAS_ANNOTATION] !== wanted.max;
}

/** Writes the desired/max replicas annotations into `replicaSet` (a copy the caller owns); true if they changed. */
export function setReplicasAnnotations(replicaSet: ReplicaSet, deployment: Deployment): boolean {
  const changed = replicasAnnotationsNeedUpdate(replicaSet, deployment);
  const wanted = replicasAnnotationsFor(deployment);
  const annotations = annotationsOf(replicaSet);
  annotations[DESIRED_REPLICAS_ANNOTATION] = wanted.desired;
  annotations[MAX_REPLICAS_ANNOTATION] = wanted.max;
  return changed;
}

/**
 * Brings the new ReplicaSet's annotations up to date (upstream's SetNewReplicaSetAnnotations), in
 * `replicaSet`, a copy the caller owns: the Deployment's annotations, the revision `newRevision`
 * when that is higher than the one it has (keeping the one it had in the revision history: a
 * rollback), and for a ReplicaSet about to be created the desired/max replicas. True if anything changed.
 */
export function setNewReplicaSetAnnotations(deployment: Deployment, replicaSet: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const annotations = annotationsOf(replicaSet);
  let changed = false;
  for (const [key, value] of Object.entries(deployment.metadata?.annotations ?? {})) {
    if (ANNOTATIONS_NOT_COPIED.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  const oldRevisionText = annotations[REVISION_ANNOTATION];
  const oldRevision = oldRevisionText === undefined || oldRevisionText === '' ? 0 : revisionOf(replicaSet);
  // An unreadable revision is left alone, as upstream does.
  if (oldRevision === undefined) return changed;
  if (oldRevision < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (oldRevisionText !== undefined && oldRevisionText !== '') {
      const history = appendRevisionHistory(annotations[REVISION_HISTORY_ANNOTATION] ?? '', oldRevisionText, MAX_REVISION_HISTORY_CHARS);
      if (history !== undefined) annotations[REVISION_HISTORY_ANNOTATION] = history;
    }
  }
  if (!exists && setReplicasAnnotations(replicaSet, deployment)) changed = true;
  return changed;
}

/**
 * `history` with `revision` appended, the oldest entries dropped to stay within `limitChars`
 * (upstream's rule); undefined when even that does not fit.
 */
export function appendRevisionHistory(history: string, revision: string, limitChars: number): string | undefined {
  if (history === '') return revision;
  const revisions = history.split(',');
  let totalChars = history.length + revision.length + 1;
  let start = 0;
  while (totalChars > limitChars && start < revisions.length) {
    totalChars -= (revisions[start] as string).length + 1;
    start++;
  }
  if (totalChars > limitChars) return undefined;
  return [...revisions.slice(start), revision].join(',');
}

/** Sets the Deployment's revision annotation (in a copy the caller owns); true if it changed. */
export function setDeploymentRevision(deployment: Deployment, revision: string): boolean {
  const annotations = annotationsOf(deployment);
  if (annotations[REVISION_ANNOTATION] === revision) return false;
  annotations[REVISION_ANNOTATION] = revision;
  return true;
}
