import { describe, expect, it } from 'vitest';
import { cloneJson } from './json_values.js';

describe('cloneJson', () => {
  it('copies every level, so that changing the copy leaves the original as it was', () => {
    const original = { metadata: { name: 'a', labels: { app: 'x' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] }, n: null, t: true, z: 0 };
    const copy = cloneJson(original);
    expect(copy).toEqual(original);
    copy.metadata.labels.app = 'y';
    copy.spec.containers[0]!.ports.push({ containerPort: 81 });
    expect(original.metadata.labels.app).toBe('x');
    expect(original.spec.containers[0]!.ports).toEqual([{ containerPort: 80 }]);
    expect(copy.spec.containers).not.toBe(original.spec.containers);
  });

  it('keeps primitives and undefined as they are', () => {
    for (const value of ['s', 1, false, null, undefined]) expect(cloneJson(value)).toBe(value);
  });

  it('keeps a "__proto__" key from JSON a key, as structuredClone does', () => {
    const parsed = JSON.parse('{"labels":{"__proto__":{"polluted":"yes"},"app":"x"}}') as { labels: Record<string, unknown> };
    const copy = cloneJson(parsed);
    expect(Object.keys(copy.labels)).toEqual(['__proto__', 'app']);
    expect(Object.getPrototypeOf(copy.labels)).toBe(Object.prototype);
    expect((copy.labels as { polluted?: string }).polluted).toBeUndefined();
    expect(copy).toEqual(structuredClone(parsed));
  });
});
