import { describe, expect, it } from 'vitest';
import { decodeContinue } from './object_store.js';

const token = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const prefix = '/registry/configmaps/';

describe('decodeContinue', () => {
  it('reads the start key relative to the collection, at the revision', () => {
    expect(decodeContinue(token({ v: 'meta.k8s.io/v1', rv: 7, start: 'ns/a\u0000' }), prefix)).toEqual({ key: `${prefix}ns/a\u0000`, revision: 7 });
  });

  it("matches field names up to case, as Go's decoder does (kube accepts {\"V\", \"RV\", \"Start\"})", () => {
    expect(decodeContinue(token({ V: 'meta.k8s.io/v1', RV: 3, START: 'ns/b' }), prefix)).toEqual({ key: `${prefix}ns/b`, revision: 3 });
    // Go's special folds: the long s and the Kelvin sign.
    expect(decodeContinue(token({ v: 'meta.k8s.io/v1', rv: 3, '\u017ftart': 'ns/c' }), prefix).key).toBe(`${prefix}ns/c`);
  });

  it('refuses a key outside the collection and a zero revision with kube-apiserver texts', () => {
    expect(() => decodeContinue(token({ v: 'meta.k8s.io/v1', rv: 3, start: '../secrets/x' }), prefix)).toThrow(
      'invalid continue token: continue key is not valid: ../secrets/x',
    );
    expect(() => decodeContinue(token({ v: 'meta.k8s.io/v1', rv: 0, start: 'a' }), prefix)).toThrow(
      'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  });
});
