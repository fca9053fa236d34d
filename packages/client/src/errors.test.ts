import { apiErrors } from '@k8ts/apimachinery';
import { describe, expect, test } from 'vitest';
import { ignoreNotFound } from './errors.js';

const PODS = { group: '', resource: 'pods' };

describe('ignoreNotFound', () => {
  test('the answer of a call that succeeds', async () => {
    await expect(ignoreNotFound(Promise.resolve('web'))).resolves.toBe('web');
  });

  test('undefined for an object that is not there', async () => {
    await expect(ignoreNotFound(Promise.reject(apiErrors.notFound(PODS, 'web')))).resolves.toBeUndefined();
  });

  test('every other failure rejects as it was', async () => {
    const conflict = apiErrors.conflict(PODS, 'web', 'the object has been modified');
    await expect(ignoreNotFound(Promise.reject(conflict))).rejects.toBe(conflict);
    await expect(ignoreNotFound(Promise.reject(new Error('socket closed')))).rejects.toThrow('socket closed');
  });
});
