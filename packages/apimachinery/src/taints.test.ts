import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { toleratesTaint } from './taints.js';

describe('toleratesTaint', () => {
  const gpu: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoExecute' };
  it.each<[string, Toleration, boolean]>([
    ['Exists on the key', { key: 'dedicated', operator: 'Exists' }, true],
    ['Equal with the value', { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute' }, true],
    ['no operator means Equal', { key: 'dedicated', value: 'gpu' }, true],
    ['Equal with another value', { key: 'dedicated', operator: 'Equal', value: 'cpu' }, false],
    ['Equal without a value against a valued taint', { key: 'dedicated', operator: 'Equal', effect: 'NoExecute' }, false],
    ['another effect', { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, false],
    ['an empty effect matches every effect', { key: 'dedicated', operator: 'Equal', value: 'gpu' }, true],
    ['empty key with Exists tolerates everything', { operator: 'Exists' }, true],
    ['another key', { key: 'other', operator: 'Exists' }, false],
    ['an unknown operator', { key: 'dedicated', operator: 'Lt', value: 'gpu' }, false],
  ])('%s', (_, toleration, expected) => {
    expect(toleratesTaint(toleration, gpu)).toBe(expected);
  });

  it('an empty value on both sides is equal', () => {
    expect(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Equal' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' })).toBe(true);
  });
});
