import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { canonicalJson, computeHash, equalIgnoreHash, fnv32a, POD_TEMPLATE_HASH_LABEL, safeEncodeString } from './template_hash.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function template(image: string, labels: Record<string, string> = { app: 'web' }): PodTemplateSpec {
  return { metadata: { labels }, spec: { containers: [{ name: 'main', image }] } };
}

describe('pod-template-hash', () => {
  test('fnv-32a matches its published test vectors', () => {
    expect(fnv32a(bytes(''))).toBe(0x811c9dc5);
    expect(fnv32a(bytes('a'))).toBe(0xe40c292c);
    expect(fnv32a(bytes('foobar'))).toBe(0xbf9cf968);
  });

  test('the safe encoding maps digits as apimachinery rand.SafeEncodeString does', () => {
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
  });

  test('a hash is the safe-encoded decimal fnv-32a: only the alphabet, stable for equal templates in any key order', () => {
    const a = template('nginx:1');
    const b: PodTemplateSpec = { spec: { containers: [{ image: 'nginx:1', name: 'main' }] }, metadata: { labels: { app: 'web' } } };
    expect(computeHash(a, undefined)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(computeHash(a, undefined)).toBe(computeHash(b, undefined));
    expect(computeHash(a, undefined)).not.toBe(computeHash(template('nginx:2'), undefined));
  });

  test('collisionCount changes the hash (and 0 differs from none, as upstream)', () => {
    const a = template('nginx:1');
    const hashes = new Set([computeHash(a, undefined), computeHash(a, 0), computeHash(a, 1), computeHash(a, 2)]);
    expect(hashes.size).toBe(4);
  });

  test('equality ignores the hash label and empty values (creationTimestamp: null, resources: {})', () => {
    const fromReplicaSet: PodTemplateSpec = {
      metadata: { labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: 'abc' }, creationTimestamp: null as unknown as string },
      spec: { containers: [{ name: 'main', image: 'nginx:1', resources: {} }] },
    };
    expect(equalIgnoreHash(fromReplicaSet, template('nginx:1'))).toBe(true);
    expect(equalIgnoreHash(fromReplicaSet, template('nginx:2'))).toBe(false);
    expect(equalIgnoreHash(template('nginx:1', { app: 'web', tier: 'x' }), template('nginx:1'))).toBe(false);
  });

  test('canonical JSON sorts keys and keeps false and 0', () => {
    expect(canonicalJson({ b: 0, a: false, c: [], d: {}, e: null })).toBe('{"a":false,"b":0}');
  });
});
