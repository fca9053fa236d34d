import { describe, expect, it } from 'vitest';
import { checkKeySpace, formatKey, KeyChooser, makeValue, parseWatchKey, prefixRangeEnd, seededRandom, watchKey } from './keys.js';

describe('keys', () => {
  it('formats key numbers zero-padded to exactly the key size', () => {
    expect(formatKey(42, 8).toString()).toBe('00000042');
    expect(formatKey(0, 1).toString()).toBe('0');
    expect(() => formatKey(123, 2)).toThrow(RangeError);
  });

  it('refuses a key space the key size cannot hold', () => {
    expect(() => checkKeySpace({ keySizeBytes: 4, keySpaceSize: 10_000, sequential: false })).not.toThrow();
    expect(() => checkKeySpace({ keySizeBytes: 4, keySpaceSize: 10_001, sequential: false })).toThrow(/--key-size 4/);
    expect(() => checkKeySpace({ keySizeBytes: 8, keySpaceSize: 0, sequential: false })).toThrow(/--key-space-size/);
  });

  it('chooses sequential keys modulo the key space', () => {
    const chooser = new KeyChooser({ keySizeBytes: 3, keySpaceSize: 3, sequential: true }, seededRandom(1));
    expect([0, 1, 2, 3, 4].map((i) => chooser.pick(i).key.toString())).toEqual(['000', '001', '002', '000', '001']);
  });

  it('chooses random keys inside the key space, the same ones for the same seed', () => {
    const pick = (seed: number): number[] => {
      const chooser = new KeyChooser({ keySizeBytes: 8, keySpaceSize: 50, sequential: false }, seededRandom(seed));
      return Array.from({ length: 200 }, (_, i) => chooser.pick(i).keyNumber);
    };
    const first = pick(7);
    expect(pick(7)).toEqual(first);
    expect(pick(8)).not.toEqual(first);
    expect(first.every((n) => Number.isInteger(n) && n >= 0 && n < 50)).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(30); // spread over the space, not stuck
  });

  it('pick returns the key of the number it drew (one PRNG draw per operation)', () => {
    const chooser = new KeyChooser({ keySizeBytes: 8, keySpaceSize: 1000, sequential: false }, seededRandom(3));
    for (let i = 0; i < 20; i += 1) {
      const { keyNumber, key } = chooser.pick(i);
      expect(Number(key.toString())).toBe(keyNumber);
    }
  });

  it('makes values of the asked size', () => {
    expect(makeValue(256, seededRandom(1))).toHaveLength(256);
    expect(makeValue(0, seededRandom(1))).toHaveLength(0);
  });

  it('round-trips watch keys and rejects keys of other runs', () => {
    const key = watchKey('/w/run1/', 7, 500);
    expect(key.toString()).toBe('/w/run1/007');
    expect(parseWatchKey('/w/run1/', key)).toBe(7);
    expect(parseWatchKey('/w/run2/', key)).toBeUndefined();
    expect(parseWatchKey('/w/run1/', Buffer.from('/w/run1/x'))).toBeUndefined();
  });

  it('computes prefix range ends as etcd clients do', () => {
    expect(prefixRangeEnd(Buffer.from('/a/')).toString()).toBe('/a0');
    expect(prefixRangeEnd(Buffer.from([0x61, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(prefixRangeEnd(Buffer.from([0xff, 0xff]))).toEqual(Buffer.from([0]));
  });
});
