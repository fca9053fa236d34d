/**
 * Cluster-scoped kinds: Namespaces, Nodes, PriorityClasses.
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { immutable, invalidEach, list, record, text } from './common.js';
import { validateKubeFinalizerName, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { isLabelValue, isQualifiedName, nameIsDnsLabel, nameIsDnsSubdomain } from './names.js';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
/** scheduling.HighestUserDefinablePriority */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
const SYSTEM_PRIORITY_CLASSES: Readonly<Record<string, number>> = {
  'system-node-critical': 2_000_001_000,
  'system-cluster-critical': 2_000_000_000,
};

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

export function validatePriorityClass(priorityClass: unknown): FieldError[] {
  const fields = record(priorityClass);
  const name = text(record(fields['metadata'])['name']);
  const value = typeof fields['value'] === 'number' ? fields['value'] : 0;
  const errors = validateObjectMeta(fields['metadata'], false, nameIsDnsSubdomain);
  if (name.startsWith('system-')) {
    const problem = systemPriorityClassProblem(name, value, fields['globalDefault'] === true);
    if (problem !== undefined)
      errors.push(
        fieldErrors.forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: ${problem}`),
      );
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errors.push(fieldErrors.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  const policy = fields['preemptionPolicy'];
  if (policy !== undefined && policy !== null) {
    const given = text(policy);
    if (given === '') errors.push(fieldErrors.required('preemptionPolicy'));
    else if (given !== 'PreemptLowerPriority' && given !== 'Never')
      errors.push(fieldErrors.notSupported('preemptionPolicy', given, ['PreemptLowerPriority', 'Never']));
  }
  return errors;
}

function systemPriorityClassProblem(name: string, value: number, globalDefault: boolean): string | undefined {
  const expected = SYSTEM_PRIORITY_CLASSES[name];
  if (expected === undefined) return `${name} is not a known system priority class`;
  if (value !== expected) return `value of ${name} PriorityClass must be ${expected}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

export function validatePriorityClassUpdate(priorityClass: unknown, old: unknown): FieldError[] {
  const fields = record(priorityClass);
  const oldFields = record(old);
  const errors = validateObjectMetaUpdate(fields['metadata'], oldFields['metadata']);
  if ((fields['value'] ?? 0) !== (oldFields['value'] ?? 0)) errors.push(fieldErrors.forbidden('value', 'may not be changed in an update.'));
  errors.push(...immutable('preemptionPolicy', fields['preemptionPolicy'], oldFields['preemptionPolicy']));
  return [...errors, ...validatePriorityClass(priorityClass)];
}
