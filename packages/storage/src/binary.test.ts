import { describe, expect, test } from 'vitest';
import { ByteReader, ByteWriter } from './binary.js';

describe('u64 fields', () => {
  test('a 64-bit node id held exactly by a double survives the round trip', () => {
    const id = 13835611970401992704; // 2^63 + …, a multiple of 2^16
    const writer = new ByteWriter(16);
    writer.u64(id).u64(42);
    const reader = new ByteReader(writer.finish());
    expect(reader.u64('vote')).toBe(id);
    expect(reader.u64('term')).toBe(42);
  });

  test('values a double cannot hold, and negative or fractional ones, are refused', () => {
    expect(() => new ByteWriter(8).u64(-1)).toThrow('u64 out of range');
    expect(() => new ByteWriter(8).u64(1.5)).toThrow('u64 out of range');
    const raw = Buffer.alloc(8);
    raw.writeBigUInt64LE(2n ** 53n + 1n);
    expect(() => new ByteReader(raw).u64('index')).toThrow('not exactly representable');
  });
});
