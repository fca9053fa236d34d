/**
 * Deployments and ReplicaSets (pkg/apis/apps/validation and the apps/v1 strategies).
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { matchesLabels, requirementsFromLabelSelector } from '../labels.js';
import {
  goLabelSelector,
  goStringMap,
  immutable,
  invalidGoValue,
  list,
  nonNegative,
  record,
  stringMap,
  text,
} from './common.js';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { isValidPercent, nameIsDnsSubdomain } from './names.js';
import { validatePodTemplateSpec } from './pods.js';

export function validateDeployment(deployment: unknown): FieldError[] {
  const fields = record(deployment);
  const spec = record(fields['spec']);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  errors.push(...nonNegative('spec.replicas', spec['replicas']));
  errors.push(...validateSelectorAndTemplate(spec));
  errors.push(...validateStrategy(record(spec['strategy']), 'spec.strategy'));
  errors.push(...nonNegative('spec.minReadySeconds', spec['minReadySeconds']));
  errors.push(...nonNegative('spec.revisionHistoryLimit', spec['revisionHistoryLimit']));
  const deadline = spec['progressDeadlineSeconds'];
  if (typeof deadline === 'number') {
    errors.push(...nonNegative('spec.progressDeadlineSeconds', deadline));
    const minReady = typeof spec['minReadySeconds'] === 'number' ? spec['minReadySeconds'] : 0;
    if (deadline <= minReady) errors.push(fieldErrors.invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  }
  return errors;
}

export function validateReplicaSet(replicaSet: unknown): FieldError[] {
  const fields = record(replicaSet);
  const spec = record(fields['spec']);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  errors.push(...nonNegative('spec.replicas', spec['replicas']));
  errors.push(...nonNegative('spec.minReadySeconds', spec['minReadySeconds']));
  errors.push(...validateSelectorAndTemplate(spec));
  return errors;
}

/** apps/v1 forbids changing the selector, since the controller would orphan its pods. */
export function validateWorkloadUpdate(object: unknown, old: unknown, validate: (object: unknown) => FieldError[]): FieldError[] {
  const selector = record(record(object)['spec'])['selector'];
  const oldSelector = record(record(old)['spec'])['selector'];
  return [
    ...validateObjectMetaUpdate(record(object)['metadata'], record(old)['metadata']),
    ...validate(object),
    ...immutable('spec.selector', selector, oldSelector, goLabelSelector(selector)),
  ];
}

function validateSelectorAndTemplate(spec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const selector = spec['selector'];
  if (selector === undefined || selector === null) {
    errors.push(fieldErrors.required('spec.selector'));
  } else {
    errors.push(...validateLabelSelector(selector, 'spec.selector'));
    const fields = record(selector);
    if (Object.keys(record(fields['matchLabels'])).length + list(fields['matchExpressions']).length === 0)
      // Upstream says "deployment" for ReplicaSets too.
      errors.push(fieldErrors.invalid('spec.selector', selector, 'empty selector is invalid for deployment'));
  }
  errors.push(...validateTemplate(spec['template'], selector));
  return errors;
}

function validateTemplate(template: unknown, selector: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const labels = stringMap(record(record(template)['metadata'])['labels']);
  if (matchesSelectorOrUnparsable(selector, labels) === false)
    errors.push(
      invalidGoValue('spec.template.metadata.labels', labels, goStringMap(labels), '`selector` does not match template `labels`'),
    );
  errors.push(...validatePodTemplateSpec(template, 'spec.template'));
  const podSpec = record(record(template)['spec']);
  const restartPolicy = text(podSpec['restartPolicy']);
  if (restartPolicy !== 'Always') errors.push(fieldErrors.notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
  if (podSpec['activeDeadlineSeconds'] !== undefined)
    errors.push(
      // Deployments share the ReplicaSet check, message included.
      fieldErrors.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicaSet is not Supported'),
    );
  return errors;
}

/** undefined when the selector is absent, empty or malformed (other errors report those). */
function matchesSelectorOrUnparsable(selector: unknown, labels: Record<string, string>): boolean | undefined {
  if (selector === undefined || selector === null) return undefined;
  try {
    const requirements = requirementsFromLabelSelector(record(selector));
    return requirements.length === 0 ? undefined : matchesLabels(requirements, labels);
  } catch {
    return undefined;
  }
}

function validateStrategy(strategy: Record<string, unknown>, path: string): FieldError[] {
  const type = text(strategy['type']);
  const rollingUpdate = strategy['rollingUpdate'];
  if (type === 'Recreate')
    return rollingUpdate === undefined || rollingUpdate === null
      ? []
      : [fieldErrors.forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")];
  if (type === 'RollingUpdate')
    return rollingUpdate === undefined || rollingUpdate === null
      ? [fieldErrors.required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil')]
      : validateRollingUpdate(record(rollingUpdate), `${path}.rollingUpdate`);
  return [fieldErrors.notSupported(path, strategy, ['Recreate', 'RollingUpdate'])];
}

function validateRollingUpdate(rollingUpdate: Record<string, unknown>, path: string): FieldError[] {
  const maxUnavailable = rollingUpdate['maxUnavailable'];
  const maxSurge = rollingUpdate['maxSurge'];
  const errors = [...validateIntOrPercent(maxUnavailable, `${path}.maxUnavailable`), ...validateIntOrPercent(maxSurge, `${path}.maxSurge`)];
  if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0)
    errors.push(fieldErrors.invalid(`${path}.maxUnavailable`, maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  if (typeof maxUnavailable === 'string' && intOrPercentValue(maxUnavailable) > 100)
    errors.push(fieldErrors.invalid(`${path}.maxUnavailable`, maxUnavailable, 'must not be greater than 100%'));
  return errors;
}

function validateIntOrPercent(value: unknown, path: string): FieldError[] {
  if (typeof value === 'string') return isValidPercent(value).map((message) => fieldErrors.invalid(path, value, message));
  return nonNegative(path, value);
}

/** The number in 5 or "5%"; an absent value counts as 0, as Go's zero IntOrString does. */
function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number.parseInt(value, 10) || 0;
  return 0;
}
