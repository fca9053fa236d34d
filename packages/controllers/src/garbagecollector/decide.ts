import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from './identity.js';

/** An object's owner references sorted by what the API server said of each owner. */
export interface ClassifiedReferences {
  /** The owner exists and is not waiting for its dependents. */
  readonly solid: readonly OwnerReference[];
  /** The owner does not exist (NotFound, or another uid under its name). */
  readonly dangling: readonly OwnerReference[];
  /** The owner exists, being deleted with the foregroundDeletion finalizer. */
  readonly waitingForDependentsDeletion: readonly OwnerReference[];
}

export type DeletePolicy = 'Foreground' | 'Background' | 'Orphan';

export type Decision =
  | { readonly action: 'keep' }
  /** It has a live owner: drop only the references to owners that are gone or waiting for it. */
  | { readonly action: 'removeReferences'; readonly uids: readonly string[] }
  /** Collect it; `unblockFirst`: turn off its own blockOwnerDeletion first (a possible cycle). */
  | { readonly action: 'delete'; readonly policy: DeletePolicy; readonly unblockFirst: boolean };

/**
 * What the collector does with an object whose owner references were classified, as upstream's
 * attemptToDeleteItem:
 * - one solid owner keeps it; references to dangling and waiting owners are removed (a waiting
 *   owner would otherwise wait forever on a dependent that has another owner);
 * - an owner waits for it in foreground and it has dependents of its own: it is deleted in
 *   foreground too (so the owner waits for the whole subtree), after making its references
 *   non-blocking when one of its dependents is itself deleting dependents (a cycle would deadlock);
 * - otherwise it is garbage: deleted with the policy its own finalizers ask for, else Background.
 */
export function decide(
  references: ClassifiedReferences,
  finalizers: readonly string[],
  dependents: { readonly count: number; readonly anyDeletingDependents: boolean },
): Decision {
  const { solid, dangling, waitingForDependentsDeletion: waiting } = references;
  if (solid.length > 0) {
    if (dangling.length === 0 && waiting.length === 0) return { action: 'keep' };
    return { action: 'removeReferences', uids: [...dangling, ...waiting].map((reference) => reference.uid) };
  }
  if (waiting.length > 0 && dependents.count > 0) return { action: 'delete', policy: 'Foreground', unblockFirst: dependents.anyDeletingDependents };
  const policy: DeletePolicy = finalizers.includes(ORPHAN_FINALIZER) ? 'Orphan' : finalizers.includes(FOREGROUND_FINALIZER) ? 'Foreground' : 'Background';
  return { action: 'delete', policy, unblockFirst: false };
}
