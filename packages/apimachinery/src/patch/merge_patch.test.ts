import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { applyMergePatch } from './merge_patch.js';

describe('applyMergePatch', () => {
  it('merges objects recursively, deletes on null and replaces arrays whole', () => {
    const live = {
      metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
      spec: { replicas: 1, containers: [{ name: 'a', image: 'nginx' }, { name: 'b' }] },
    };
    const result = applyMergePatch(live, {
      metadata: { labels: { tier: null, team: 'core' } },
      spec: { replicas: 3, containers: [{ name: 'a', image: 'nginx:2' }] },
    });
    expect(result).toEqual({
      metadata: { name: 'web', labels: { app: 'web', team: 'core' } },
      spec: { replicas: 3, containers: [{ name: 'a', image: 'nginx:2' }] },
    });
    expect(live.metadata.labels).toEqual({ app: 'web', tier: 'front' });
  });

  it('drops nulls nested in a value that is added', () => {
    expect(applyMergePatch({}, { spec: { a: null, b: { c: null, d: 1 } } })).toEqual({ spec: { b: { d: 1 } } });
  });

  it('replaces a scalar with an object and an object with a scalar', () => {
    expect(applyMergePatch({ a: 'x', b: { c: 1 } }, { a: { y: 1 }, b: 2 })).toEqual({ a: { y: 1 }, b: 2 });
  });

  it('answers a patch that is not an object with 400 "Invalid JSON Patch"', () => {
    for (const patch of [null, 'x', 3]) {
      try {
        applyMergePatch({}, patch);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).status).toMatchObject({ code: 400, reason: 'BadRequest', message: 'Invalid JSON Patch' });
      }
    }
  });
});
