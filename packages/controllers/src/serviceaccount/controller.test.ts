import { describe, expect, test } from 'vitest';
import { namespaceWantsAccounts } from './controller.js';

describe('namespaceWantsAccounts', () => {
  test('only Active namespaces that are not being deleted get their default ServiceAccount', () => {
    expect(namespaceWantsAccounts({ metadata: { name: 'a' }, status: { phase: 'Active' } })).toBe(true);
    expect(namespaceWantsAccounts({ metadata: { name: 'a' }, status: { phase: 'Terminating' } })).toBe(false);
    expect(namespaceWantsAccounts({ metadata: { name: 'a', deletionTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Active' } })).toBe(false);
    expect(namespaceWantsAccounts(undefined)).toBe(false);
  });
});
