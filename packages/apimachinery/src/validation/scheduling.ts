/**
 * scheduling.k8s.io: PriorityClasses, as kube-apiserver 1.32 validates them. What validation cannot
 * see (a second globalDefault class) is the Priority admission plugin's, in the API server.
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { immutable, record, text } from './common.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { nameIsDnsSubdomain } from './names.js';

/** The highest value a PriorityClass other than the system ones may have (scheduling.HighestUserDefinablePriority). */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** The value of system-cluster-critical (scheduling.SystemCriticalPriority). */
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
/** Names with this prefix are the system classes' alone. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
export const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'] as const;

export interface SystemPriorityClass {
  readonly name: string;
  readonly value: number;
  readonly description: string;
}

/** The classes the API server makes sure exist (kube-apiserver's bootstrap-system-priority-classes hook). */
export const SYSTEM_PRIORITY_CLASSES: readonly SystemPriorityClass[] = [
  {
    name: 'system-node-critical',
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    name: 'system-cluster-critical',
    value: SYSTEM_CRITICAL_PRIORITY,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

/** `value` is an int32 without omitempty upstream: absent reads as 0. */
function valueOf(fields: Record<string, unknown>): number {
  return typeof fields['value'] === 'number' ? fields['value'] : 0;
}

export function validatePriorityClass(priorityClass: unknown): FieldError[] {
  const fields = record(priorityClass);
  const name = text(record(fields['metadata'])['name']);
  const value = valueOf(fields);
  const errors = validateObjectMeta(fields['metadata'], false, nameIsDnsSubdomain);
  if (name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const problem = systemPriorityClassProblem(name, value, fields['globalDefault'] === true);
    if (problem !== undefined) {
      const reserved = `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${problem}`;
      errors.push(fieldErrors.forbidden('metadata.name', reserved));
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errors.push(fieldErrors.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  const policy = fields['preemptionPolicy'];
  if (policy !== undefined && policy !== null) errors.push(...validatePreemptionPolicy(policy, 'preemptionPolicy'));
  return errors;
}

/** core's ValidatePreemptionPolicy: set means one of the two policies. */
export function validatePreemptionPolicy(policy: unknown, path: string): FieldError[] {
  const given = text(policy);
  if (given === '') return [fieldErrors.required(path)];
  if (!(PREEMPTION_POLICIES as readonly string[]).includes(given)) return [fieldErrors.notSupported(path, given, PREEMPTION_POLICIES)];
  return [];
}

/** Why a "system-" name is not one of the system classes as they must be, or undefined when it is. */
function systemPriorityClassProblem(name: string, value: number, globalDefault: boolean): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((candidate) => candidate.name === name);
  if (known === undefined) return `${name} is not a known system priority class`;
  if (value !== known.value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

/**
 * An update checks only what may not change (name, value, preemptionPolicy) and the metadata, as
 * upstream's strategy does: the create checks are not run again.
 */
export function validatePriorityClassUpdate(priorityClass: unknown, old: unknown): FieldError[] {
  const fields = record(priorityClass);
  const oldFields = record(old);
  const errors = validateObjectMetaUpdate(fields['metadata'], oldFields['metadata']);
  errors.push(...validateObjectMeta(fields['metadata'], false, nameIsDnsSubdomain));
  if (valueOf(fields) !== valueOf(oldFields)) errors.push(fieldErrors.forbidden('value', 'may not be changed in an update.'));
  errors.push(...immutable('preemptionPolicy', fields['preemptionPolicy'] ?? null, oldFields['preemptionPolicy'] ?? null));
  return errors;
}
