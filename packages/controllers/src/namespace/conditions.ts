import type { NamespaceCondition, NamespaceStatus } from 'kubernetes-types/core/v1.js';

/**
 * The namespace conditions the namespace controller keeps while it empties a terminating
 * namespace, with upstream's types, reasons and messages (pkg/controller/namespace/deletion's
 * namespaceConditionUpdater). Each pass states every type: True with what went wrong or remains,
 * else False with its "all is well" reason.
 */
export const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

export type NamespaceConditionType = (typeof CONDITION_TYPES)[number];

const OK: Record<NamespaceConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

/** What one pass left behind: objects per resource ("pods.", "deployments.apps") and per finalizer. */
export interface ContentTotals {
  readonly remainingByResource: ReadonlyMap<string, number>;
  readonly remainingByFinalizer: ReadonlyMap<string, number>;
}

export class NamespaceConditionUpdater {
  private readonly found: NamespaceCondition[] = [];

  /** `now`: the lastTransitionTime of conditions that change status in this pass. */
  constructor(private readonly now: string) {}

  discoveryFailed(message: string): void {
    this.add('NamespaceDeletionDiscoveryFailure', 'DiscoveryFailed', message);
  }

  groupVersionParsingFailed(message: string): void {
    this.add('NamespaceDeletionGroupVersionParsingFailure', 'GroupVersionParsingFailed', message);
  }

  /** The errors met deleting content, one per resource that failed. */
  deleteContentFailed(errors: readonly string[]): void {
    if (errors.length === 0) return;
    const messages = [...new Set(errors)].sort();
    this.add('NamespaceDeletionContentFailure', 'ContentDeletionFailed', `Failed to delete all resource types, ${errors.length} remaining: ${messages.join(', ')}`);
  }

  contentTotals(totals: ContentTotals): void {
    const resources = [...totals.remainingByResource].filter(([, count]) => count > 0).map(([resource, count]) => `${resource} has ${count} resource instances`);
    if (resources.length > 0) this.add('NamespaceContentRemaining', 'SomeResourcesRemain', `Some resources are remaining: ${resources.sort().join(', ')}`);
    const finalizers = [...totals.remainingByFinalizer].filter(([, count]) => count > 0).map(([finalizer, count]) => `${finalizer} in ${count} resource instances`);
    if (finalizers.length > 0) this.add('NamespaceFinalizersRemaining', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${finalizers.sort().join(', ')}`);
  }

  /**
   * Writes every condition type into `status` (in place): what this pass found, else the OK
   * variant. lastTransitionTime moves only when a condition's status flips. True when anything changed.
   */
  update(status: NamespaceStatus): boolean {
    let changed = false;
    const conditions = (status.conditions ??= []);
    for (const type of CONDITION_TYPES) {
      const next = this.found.find((condition) => condition.type === type) ?? { type, status: 'False', lastTransitionTime: this.now, ...OK[type] };
      const current = conditions.find((condition) => condition.type === type);
      if (current === undefined) {
        conditions.push(next);
        changed = true;
      } else if (current.status !== next.status || current.reason !== next.reason || current.message !== next.message) {
        if (current.status !== next.status) current.lastTransitionTime = this.now;
        current.status = next.status;
        current.reason = next.reason as string;
        current.message = next.message as string;
        changed = true;
      }
    }
    return changed;
  }

  private add(type: NamespaceConditionType, reason: string, message: string): void {
    this.found.push({ type, status: 'True', lastTransitionTime: this.now, reason, message });
  }
}
