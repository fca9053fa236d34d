/**
 * Cluster-scoped kinds: Namespaces and Nodes (PriorityClasses are in scheduling.ts).
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { invalidEach, list, record, text } from './common.js';
import { validateKubeFinalizerName, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { isLabelValue, isQualifiedName, nameIsDnsLabel, nameIsDnsSubdomain } from './names.js';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateNamespace(namespace: unknown): FieldError[] {
  const fields = record(namespace);
  const errors = validateObjectMeta(fields['metadata'], false, nameIsDnsLabel);
  for (const finalizer of list(record(fields['spec'])['finalizers']).map(text)) {
    errors.push(...invalidEach('spec.finalizers', finalizer, isQualifiedName(finalizer)));
    errors.push(...validateKubeFinalizerName(finalizer, 'spec.finalizers'));
  }
  return errors;
}

export function validateNode(node: unknown): FieldError[] {
  const fields = record(node);
  const errors = validateObjectMeta(fields['metadata'], false, nameIsDnsSubdomain);
  errors.push(...validateTaints(record(fields['spec'])['taints']));
  return errors;
}

/** podCIDRs and providerID may only go from unset to set; taints and unschedulable may change. */
export function validateNodeUpdate(node: unknown, old: unknown): FieldError[] {
  const spec = record(record(node)['spec']);
  const oldSpec = record(record(old)['spec']);
  const errors = validateObjectMetaUpdate(record(node)['metadata'], record(old)['metadata']);
  const oldCidrs = list(oldSpec['podCIDRs']).map(text);
  const cidrs = list(spec['podCIDRs']).map(text);
  if (oldCidrs.length > 0 && (oldCidrs.length !== cidrs.length || oldCidrs.some((cidr, index) => cidr !== cidrs[index])))
    errors.push(fieldErrors.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  const oldProvider = text(oldSpec['providerID']);
  if (oldProvider !== '' && oldProvider !== text(spec['providerID']))
    errors.push(fieldErrors.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  return [...errors, ...validateNode(node)];
}

function validateTaints(taints: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  list(taints).forEach((item, index) => {
    const taint = record(item);
    // Upstream roots this path at metadata ("metadata.taints[0]"); kubectl users see that.
    const path = `metadata.taints[${index}]`;
    const key = text(taint['key']);
    const value = text(taint['value']);
    const effect = text(taint['effect']);
    errors.push(...invalidEach(`${path}.key`, key, isQualifiedName(key)));
    const valueErrors = isLabelValue(value);
    if (valueErrors.length > 0) errors.push(fieldErrors.invalid(`${path}.value`, value, valueErrors.join(';')));
    if (effect === '') errors.push(fieldErrors.required(`${path}.effect`));
    else if (!TAINT_EFFECTS.includes(effect)) errors.push(fieldErrors.notSupported(`${path}.effect`, effect, TAINT_EFFECTS));
    if (seen.has(`${effect}/${key}`))
      errors.push({ ...fieldErrors.duplicate(path, taint), detail: 'taints must be unique by key and effect pair' });
    seen.add(`${effect}/${key}`);
  });
  return errors;
}
