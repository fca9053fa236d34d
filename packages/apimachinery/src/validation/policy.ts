/** policy/v1: PodDisruptionBudgets, as kube-apiserver 1.32 validates them. */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { nonNegative, record } from './common.js';
import { validateLabelSelector, validateObjectMeta } from './metadata.js';
import { isValidPercent, nameIsDnsSubdomain } from './names.js';

export const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'] as const;

export function validatePodDisruptionBudget(budget: unknown): FieldError[] {
  const fields = record(budget);
  const spec = record(fields['spec']);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  const present = (value: unknown): boolean => value !== undefined && value !== null;
  if (present(spec['minAvailable']) && present(spec['maxUnavailable'])) {
    errors.push(fieldErrors.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const field of ['minAvailable', 'maxUnavailable'] as const) {
    if (present(spec[field])) errors.push(...validateIntOrPercentUpTo100(spec[field], `spec.${field}`));
  }
  if (present(spec['selector'])) errors.push(...validateLabelSelector(spec['selector'], 'spec.selector'));
  const policy = spec['unhealthyPodEvictionPolicy'];
  if (present(policy) && !(UNHEALTHY_POD_EVICTION_POLICIES as readonly unknown[]).includes(policy)) {
    errors.push(fieldErrors.notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errors;
}

/** apps validation's ValidatePositiveIntOrPercent and IsNotMoreThan100Percent. */
function validateIntOrPercentUpTo100(value: unknown, path: string): FieldError[] {
  if (typeof value !== 'string') return nonNegative(path, value);
  const errors = isValidPercent(value).map((message) => fieldErrors.invalid(path, value, message));
  if (errors.length === 0 && Number.parseInt(value, 10) > 100) errors.push(fieldErrors.invalid(path, value, 'must not be greater than 100%'));
  return errors;
}
