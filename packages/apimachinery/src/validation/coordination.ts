/**
 * Leases (coordination.k8s.io) and core/v1 Events, the objects components write to coordinate and
 * to report.
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { IS_NEGATIVE, invalidEach, record, text } from './common.js';
import { validateObjectMeta } from './metadata.js';
import { isDns1123Subdomain, nameIsDnsSubdomain } from './names.js';

export function validateLease(lease: unknown): FieldError[] {
  const fields = record(lease);
  const spec = record(fields['spec']);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  const duration = spec['leaseDurationSeconds'];
  if (typeof duration === 'number' && duration <= 0)
    errors.push(fieldErrors.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = spec['leaseTransitions'];
  if (typeof transitions === 'number' && transitions < 0) errors.push(fieldErrors.invalid('spec.leaseTransitions', transitions, IS_NEGATIVE));
  return errors;
}

/**
 * core/v1 Events get upstream's legacy checks only (the v1 API keeps them for compatibility): the
 * involved object's namespace must agree with the event's.
 */
export function validateEvent(event: unknown): FieldError[] {
  const fields = record(event);
  const metadata = record(fields['metadata']);
  const namespace = text(metadata['namespace']);
  const involvedNamespace = text(record(fields['involvedObject'])['namespace']);
  const errors = validateObjectMeta(metadata, true, nameIsDnsSubdomain);
  const hasEventTime = text(fields['eventTime']) !== '';
  const mismatch = hasEventTime
    ? involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system'
    : involvedNamespace === ''
      ? namespace !== '' && namespace !== 'default'
      : namespace !== involvedNamespace;
  if (mismatch) errors.push(fieldErrors.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'));
  if (hasEventTime) {
    if (text(fields['reportingComponent']) === '') errors.push(fieldErrors.required('reportingComponent'));
    if (text(fields['reportingInstance']) === '') errors.push(fieldErrors.required('reportingInstance'));
    if (text(fields['action']) === '') errors.push(fieldErrors.required('action'));
  }
  if (namespace !== '') errors.push(...invalidEach('namespace', namespace, isDns1123Subdomain(namespace)));
  return errors;
}
