import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../defaults.js';
import { apiErrors, formatFieldError } from '../errors.js';
import { findResource, type ResourceType } from '../resources.js';
import { validateObject } from './index.js';
import { HIGHEST_USER_DEFINABLE_PRIORITY, SYSTEM_PRIORITY_CLASSES } from './scheduling.js';

const PRIORITY_CLASSES = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceType;

/** Defaults then validates, as the API server does; errors read as kubectl prints them. */
function check(object: Record<string, unknown>, old?: Record<string, unknown>): string[] {
  applyDefaults(PRIORITY_CLASSES, object, old === undefined ? 'create' : 'update');
  if (old !== undefined) applyDefaults(PRIORITY_CLASSES, old, 'create');
  return validateObject(PRIORITY_CLASSES, object, old).map(formatFieldError);
}

const pc = (name: string, fields: Record<string, unknown> = {}): Record<string, unknown> => ({ metadata: { name }, ...fields });

describe('PriorityClass validation', () => {
  it('serves priorityclasses as kube-apiserver does: cluster-scoped, short name pc', () => {
    expect(PRIORITY_CLASSES).toMatchObject({ kind: 'PriorityClass', namespaced: false, shortNames: ['pc'], version: 'v1' });
  });

  it('accepts a user class up to 1000000000, and one without a value (an int32 reads as 0)', () => {
    expect(check(pc('high', { value: HIGHEST_USER_DEFINABLE_PRIORITY }))).toEqual([]);
    expect(check(pc('negative', { value: -5 }))).toEqual([]);
    expect(check(pc('zero'))).toEqual([]);
  });

  it('caps the value of user classes', () => {
    expect(check(pc('high', { value: 1000000001 }))).toEqual(['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
  });

  it('reserves the system- prefix for the two system classes, as they are', () => {
    for (const known of SYSTEM_PRIORITY_CLASSES) expect(check(pc(known.name, { value: known.value, description: known.description }))).toEqual([]);
    expect(check(pc('system-node-critical', { value: 2000001000 }))).toEqual([]);
    const reserved = "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: ";
    expect(check(pc('system-mine', { value: 10 }))).toEqual([`${reserved}system-mine is not a known system priority class`]);
    expect(check(pc('system-node-critical', { value: 10 }))).toEqual([`${reserved}value of system-node-critical PriorityClass must be 2000001000`]);
    expect(check(pc('system-cluster-critical', { value: 2000000000, globalDefault: true }))).toEqual([
      `${reserved}globalDefault of system-cluster-critical PriorityClass must be false`,
    ]);
  });

  it('defaults preemptionPolicy to PreemptLowerPriority and takes only the two policies', () => {
    const defaulted = pc('low', { value: 1 });
    expect(check(defaulted)).toEqual([]);
    expect(defaulted['preemptionPolicy']).toBe('PreemptLowerPriority');
    expect(check(pc('polite', { value: 1, preemptionPolicy: 'Never' }))).toEqual([]);
    expect(check(pc('odd', { value: 1, preemptionPolicy: 'Sometimes' }))).toEqual([
      'preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"',
    ]);
    expect(check(pc('blank', { value: 1, preemptionPolicy: '' }))).toEqual(['preemptionPolicy: Required value']);
  });

  it('checks the name as a DNS subdomain', () => {
    expect(check(pc('Bad_Name', { value: 1 }))[0]).toMatch(/^metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  it('keeps value and preemptionPolicy on update; description and globalDefault may change', () => {
    const old = pc('high', { value: 10, preemptionPolicy: 'Never' });
    expect(check(pc('high', { value: 10, preemptionPolicy: 'Never', description: 'now described', globalDefault: true }), old)).toEqual([]);
    expect(check(pc('high', { value: 11, preemptionPolicy: 'Never' }), old)).toEqual(['value: Forbidden: may not be changed in an update.']);
    // Left out, the policy is defaulted again, so it changes from Never.
    expect(check(pc('high', { value: 10 }), old)).toEqual(['preemptionPolicy: Invalid value: "PreemptLowerPriority": field is immutable']);
    expect(check(pc('high', { value: 12, preemptionPolicy: 'PreemptLowerPriority' }), old)).toEqual([
      'value: Forbidden: may not be changed in an update.',
      'preemptionPolicy: Invalid value: "PreemptLowerPriority": field is immutable',
    ]);
  });

  it('does not run the create checks again on update, as upstream', () => {
    const old = pc('system-node-critical', { value: 2000001000 });
    expect(check(pc('system-node-critical', { value: 2000001000, description: 'changed' }), old)).toEqual([]);
  });

  it('reads as kube-apiserver answers it: 422 PriorityClass "x" is invalid', () => {
    const errors = validateObject(PRIORITY_CLASSES, pc('high', { value: 11, preemptionPolicy: 'Never' }), pc('high', { value: 10, preemptionPolicy: 'Never' }));
    const status = apiErrors.invalid(PRIORITY_CLASSES, 'high', errors);
    expect(status.code).toBe(422);
    expect(status.message).toBe('PriorityClass.scheduling.k8s.io "high" is invalid: value: Forbidden: may not be changed in an update.');
  });
});
