import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { applyJsonPatch } from './json_patch.js';

const deployment = () => ({
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'redis' }] } } },
});

/** The Status an operation fails with. */
function failure(run: () => unknown): ApiError['status'] {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
  throw new Error('expected an ApiError');
}

/** A 422 from a patch that did not apply carries upstream's text in its one cause. */
function unprocessableCause(run: () => unknown): string {
  const status = failure(run);
  expect(status.code).toBe(422);
  expect(status.reason).toBe('Invalid');
  expect(status.message).toBe('the server rejected our request due to an error in our request');
  expect(status.details?.causes?.[0]?.reason).toBe('UnexpectedServerResponse');
  return status.details?.causes?.[0]?.message ?? '';
}

describe('applyJsonPatch', () => {
  it('applies add, replace, remove, move, copy and test in order, leaving the input alone', () => {
    const input = deployment();
    const result = applyJsonPatch(input, [
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'remove', path: '/metadata/labels/app' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'c', image: 'busybox' } },
      { op: 'move', from: '/spec/template/spec/containers/0', path: '/spec/template/spec/containers/-' },
      { op: 'copy', from: '/metadata/labels', path: '/metadata/annotations' },
    ]);
    expect(result).toEqual({
      metadata: { name: 'web', labels: { tier: 'front' }, annotations: { tier: 'front' } },
      spec: {
        replicas: 5,
        template: { spec: { containers: [{ name: 'b', image: 'redis' }, { name: 'c', image: 'busybox' }, { name: 'a', image: 'nginx' }] } },
      },
    });
    expect(input).toEqual(deployment());
  });

  it('escapes ~1 and ~0 in path segments', () => {
    const result = applyJsonPatch(deployment(), [{ op: 'add', path: '/metadata/labels/example.com~1role~0x', value: 'db' }]);
    expect((result as { metadata: { labels: object } }).metadata.labels).toEqual({ app: 'web', 'example.com/role~x': 'db' });
  });

  it('adds a missing member on replace, as json-patch v4 does', () => {
    const result = applyJsonPatch(deployment(), [{ op: 'replace', path: '/metadata/labels/new', value: 'x' }]);
    expect((result as { metadata: { labels: object } }).metadata.labels).toEqual({ app: 'web', new: 'x' });
  });

  it('counts negative array indices from the end', () => {
    const result = applyJsonPatch({ items: [1, 2, 3] }, [{ op: 'remove', path: '/items/-1' }]);
    expect(result).toEqual({ items: [1, 2] });
  });

  it('answers a failed test with a 422 naming the path', () => {
    const cause = unprocessableCause(() => applyJsonPatch(deployment(), [{ op: 'test', path: '/spec/replicas', value: 3 }]));
    expect(cause).toBe('testing value /spec/replicas failed: test failed');
  });

  it('passes a test for null on a missing member, and fails one for a value', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/b', value: null }])).toEqual({ a: 1 });
    expect(unprocessableCause(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/b', value: 1 }]))).toBe(
      'testing value /b failed: test failed',
    );
  });

  it('answers operations on missing paths with json-patch v4 wording', () => {
    const doc = deployment();
    expect(unprocessableCause(() => applyJsonPatch(doc, [{ op: 'remove', path: '/metadata/labels/nope' }]))).toBe(
      "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value",
    );
    expect(unprocessableCause(() => applyJsonPatch(doc, [{ op: 'add', path: '/status/phase', value: 'x' }]))).toBe(
      'add operation does not apply: doc is missing path: "/status/phase": missing value',
    );
    expect(unprocessableCause(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/template/spec/containers/7', value: {} }]))).toBe(
      'replace operation does not apply: doc is missing key: /spec/template/spec/containers/7: missing value',
    );
    expect(unprocessableCause(() => applyJsonPatch(doc, [{ op: 'add', path: '/spec/template/spec/containers/9', value: {} }]))).toBe(
      "error in add for path: '/spec/template/spec/containers/9': Unable to access invalid index: 9: invalid index referenced",
    );
    expect(unprocessableCause(() => applyJsonPatch(doc, [{ op: 'move', from: '/nope/x', path: '/y' }]))).toBe(
      'move operation does not apply: doc is missing from path: /nope/x: missing value',
    );
  });

  it('refuses an unknown op and an operation without a path', () => {
    expect(unprocessableCause(() => applyJsonPatch({}, [{ op: 'frobnicate', path: '/a' }]))).toBe('Unexpected kind: frobnicate');
    expect(unprocessableCause(() => applyJsonPatch({}, [{ op: 'add', value: 1 }]))).toBe('add operation failed to decode path: missing value');
  });

  it('stops at the first failing operation without a partial result', () => {
    const input = { a: 1 };
    expect(() => applyJsonPatch(input, [{ op: 'replace', path: '/a', value: 2 }, { op: 'test', path: '/a', value: 1 }])).toThrow(ApiError);
    expect(input).toEqual({ a: 1 });
  });

  it('answers a body that is not a list of operations with a 400', () => {
    const status = failure(() => applyJsonPatch({}, { op: 'add' }));
    expect(status.code).toBe(400);
    expect(status.message).toBe('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    expect(failure(() => applyJsonPatch({}, ['add'])).message).toBe('json: cannot unmarshal string into Go value of type jsonpatch.Operation');
    expect(failure(() => applyJsonPatch({}, 7)).message).toBe('json: cannot unmarshal number into Go value of type jsonpatch.Patch');
    expect(failure(() => applyJsonPatch({}, [1.5])).message).toBe('json: cannot unmarshal number into Go value of type jsonpatch.Operation');
    expect(failure(() => applyJsonPatch({}, [true])).message).toBe('json: cannot unmarshal bool into Go value of type jsonpatch.Operation');
    expect(failure(() => applyJsonPatch({}, [[]])).message).toBe('json: cannot unmarshal array into Go value of type jsonpatch.Operation');
  });

  it('answers more than 10000 operations with a 413', () => {
    const operations = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/a', value: 1 }));
    const status = failure(() => applyJsonPatch({ a: 1 }, operations));
    expect(status.code).toBe(413);
    expect(status.message).toBe('Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
  });
});
