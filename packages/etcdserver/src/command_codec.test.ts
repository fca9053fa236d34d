import { describe, expect, test } from 'vitest';
import { decodeJson, encodeJson } from './command_codec.js';

describe('command codec', () => {
  test('byte arrays survive the round trip, including Buffers and binary bytes', () => {
    const value = { key: new Uint8Array([0, 255, 10]), value: Buffer.from('hé'), nested: [{ k: new Uint8Array() }], n: 3 };
    const decoded = decodeJson<typeof value>(encodeJson(value));
    expect(decoded.key).toEqual(new Uint8Array([0, 255, 10]));
    expect(Buffer.from(decoded.value).toString()).toBe('hé');
    expect(decoded.nested[0]?.k).toEqual(new Uint8Array());
    expect(decoded.n).toBe(3);
  });

  test('the encoding is deterministic', () => {
    const value = { a: new Uint8Array([1, 2]), b: 'x' };
    expect(encodeJson(value)).toEqual(encodeJson(value));
  });
});
