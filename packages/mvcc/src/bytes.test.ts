import { expect, test } from 'vitest';
import { compareBytes, fromKeyString, toKeyString } from './bytes.js';

test('a key string holds one code unit per byte, of the same value, and converts back', () => {
  const every = Uint8Array.from({ length: 256 }, (_, value) => value);
  const key = toKeyString(every);
  expect(key.length).toBe(256);
  for (let at = 0; at < 256; at += 1) expect(key.charCodeAt(at)).toBe(at);
  expect(fromKeyString(key)).toEqual(every);
});

test('a key that is a view into a larger buffer converts only its own bytes', () => {
  const pool = Buffer.from('xx/registry/pods/a\u00ffyy', 'latin1');
  const view = pool.subarray(2, pool.length - 2);
  expect(toKeyString(view)).toBe('/registry/pods/a\u00ff');
  expect(toKeyString(new Uint8Array(pool.buffer, pool.byteOffset + 2, 3))).toBe('/re');
});

test('key strings order as the bytes do', () => {
  const keys = [[], [0], [0, 0], [1], [0x7f], [0x80], [0xff], [0xff, 0], [0x61, 0x62], [0x61]].map((bytes) => Uint8Array.from(bytes));
  for (const a of keys) {
    for (const b of keys) {
      const [x, y] = [toKeyString(a), toKeyString(b)];
      expect(Math.sign(x < y ? -1 : x > y ? 1 : 0)).toBe(compareBytes(a, b));
    }
  }
});
