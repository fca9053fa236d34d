import { apiErrors } from '@k8ts/apimachinery';
import { describe, expect, test } from 'vitest';
import { isNamespaceTerminating } from './namespace_terminating.js';

const PODS = { group: '', resource: 'pods' };
const CAUSE = { reason: 'NamespaceTerminating', message: 'namespace gone is being terminated', field: 'metadata.namespace' };

describe('isNamespaceTerminating', () => {
  test('a Forbidden with the NamespaceTerminating cause, as kube-apiserver answers a create there', () => {
    expect(isNamespaceTerminating(apiErrors.forbidden(PODS, 'web-x', 'unable to create new content in namespace gone because it is being terminated', [CAUSE]))).toBe(true);
  });

  test('a Forbidden without the cause, by its message', () => {
    expect(isNamespaceTerminating(apiErrors.forbidden(PODS, 'web-x', 'unable to create new content in namespace gone because it is being terminated'))).toBe(true);
  });

  test('any other refusal or failure is not', () => {
    expect(isNamespaceTerminating(apiErrors.forbidden(PODS, 'web-x', 'exceeded quota'))).toBe(false);
    expect(isNamespaceTerminating(apiErrors.badRequest('unable to create new content in namespace gone because it is being terminated'))).toBe(false);
    expect(isNamespaceTerminating(new Error('because it is being terminated'))).toBe(false);
  });
});
