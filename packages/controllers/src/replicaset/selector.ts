/**
 * The ReplicaSet's selector as requirements, or why the controller cannot act on it. The apiserver
 * refuses such ReplicaSets (422), so these only guard against objects that got past it: a selector
 * that is empty, unreadable, or does not match the template's labels would make the controller
 * create pods it then does not count as its own — forever. Such a ReplicaSet gets a Warning event
 * and is left alone (no pods created or deleted, no requeue) until it changes.
 */
import { matchesLabels, requirementsFromLabelSelector, type LabelRequirement } from '@k8ts/apimachinery';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';

export const INVALID_SELECTOR_REASON = 'InvalidSelector';

export type SelectorCheck = { readonly ok: true; readonly requirements: LabelRequirement[] } | { readonly ok: false; readonly message: string };

export function replicaSetSelector(replicaSet: ReplicaSet): SelectorCheck {
  const selector = replicaSet.spec?.selector;
  if (selector === undefined || selector === null || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
    return { ok: false, message: 'spec.selector: Invalid value: empty selector is invalid for a ReplicaSet; no pods are created or deleted' };
  }
  let requirements: LabelRequirement[];
  try {
    requirements = requirementsFromLabelSelector(selector);
  } catch (error) {
    return { ok: false, message: `spec.selector: Invalid value: ${(error as Error).message}` };
  }
  const templateLabels = replicaSet.spec?.template?.metadata?.labels ?? {};
  if (Object.keys(templateLabels).length === 0) return { ok: false, message: 'unable to create pods, no labels' };
  if (!matchesLabels(requirements, templateLabels)) {
    return { ok: false, message: 'spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`' };
  }
  return { ok: true, requirements };
}
