import { describe, expect, test } from 'vitest';
import { binaryJsonHead, decodeBinaryJson, encodeBinaryJson } from './command_codec.js';

describe('command codec', () => {
  test('byte arrays survive the round trip, including Buffers and binary bytes', () => {
    const value = { key: new Uint8Array([0, 255, 10]), value: Buffer.from('hé'), nested: [{ k: new Uint8Array() }], n: 3, s: 'x', none: null };
    const decoded = decodeBinaryJson<typeof value>(encodeBinaryJson(value));
    expect(decoded.key).toEqual(new Uint8Array([0, 255, 10]));
    expect(Buffer.from(decoded.value).toString()).toBe('hé');
    expect(decoded.nested[0]?.k).toEqual(new Uint8Array());
    expect(decoded.n).toBe(3);
    expect(decoded.s).toBe('x');
    expect(decoded.none).toBeNull();
  });

  test('undefined members are left out, as JSON does', () => {
    expect(decodeBinaryJson(encodeBinaryJson({ a: undefined, b: [1] }))).toEqual({ b: [1] });
  });

  test('the encoding is deterministic', () => {
    const value = { a: new Uint8Array([1, 2]), b: 'x' };
    expect(encodeBinaryJson(value)).toEqual(encodeBinaryJson(value));
  });

  test('byte arrays go out of line, raw: the JSON part stays readable and small', () => {
    const value = new Uint8Array(1024).fill(0xff);
    const encoded = Buffer.from(encodeBinaryJson({ id: 'm-1', command: { kind: 'put', request: { key: Buffer.from('k'), value } } }));
    expect(encoded.toString('latin1')).toContain('{"id":"m-1","command":{"kind":"put","request":{"key":{"$b":0},"value":{"$b":1}}}}');
    expect(encoded.length).toBeLessThan(1024 + 100);
  });

  test('a decoded byte array does not share the entry buffer', () => {
    const encoded = encodeBinaryJson({ v: new Uint8Array([1, 2, 3]) });
    const decoded = decodeBinaryJson<{ v: Uint8Array }>(encoded);
    encoded.fill(0);
    expect(decoded.v).toEqual(new Uint8Array([1, 2, 3]));
  });

  test('entries written in the earlier format (JSON with base64 byte arrays) still decode', () => {
    const legacy = Buffer.from('{"id":"a-1","command":{"kind":"put","request":{"key":{"$b":"AP8K"},"value":{"$b":""}}}}');
    expect(decodeBinaryJson(legacy)).toEqual({ id: 'a-1', command: { kind: 'put', request: { key: new Uint8Array([0, 255, 10]), value: new Uint8Array() } } });
  });

  test('truncated or inconsistent bytes are refused with a reason', () => {
    const encoded = Buffer.from(encodeBinaryJson({ k: new Uint8Array([1, 2, 3]) }));
    expect(() => decodeBinaryJson(encoded.subarray(0, 3))).toThrow('truncated in its header');
    expect(() => decodeBinaryJson(encoded.subarray(0, 8))).toThrow('truncated in its JSON');
    expect(() => decodeBinaryJson(encoded.subarray(0, encoded.length - 5))).toThrow('truncated in a byte array length');
    expect(() => decodeBinaryJson(encoded.subarray(0, encoded.length - 1))).toThrow('truncated in a byte array');
    const noBlobs = Buffer.from(encodeBinaryJson({ k: 1 }));
    const dangling = Buffer.from(noBlobs.toString('latin1').replace('{"k":1}', '{"k":{"$b":0}}'), 'latin1');
    dangling.writeUInt32BE(dangling.length - 5, 1);
    expect(() => decodeBinaryJson(dangling)).toThrow('refers to byte array 0 of 0');
  });

  test('a head written before a last byte array in place is the encoding of the value holding it', () => {
    const kv = new Uint8Array(3000).map((_, i) => i % 7);
    const head = binaryJsonHead({ kv: new Uint8Array(0), members: [{ id: 1, name: 'a' }], removed: [] }, kv.length);
    const whole = Buffer.concat([head, kv]);
    expect(whole.equals(Buffer.from(encodeBinaryJson({ kv, members: [{ id: 1, name: 'a' }], removed: [] })))).toBe(true);
    expect(() => binaryJsonHead({ kv: new Uint8Array(1) }, 5)).toThrow('must end with an empty byte array');
  });
});
