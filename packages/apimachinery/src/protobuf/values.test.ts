import { describe, expect, it } from 'vitest';
import { base64, goDuration, specialValue, utf8 } from './values.js';

describe('values', () => {
  it.each([
    [0n, '0s'],
    [1n, '1ns'],
    [1_500n, '1.5µs'],
    [250_000_000n, '250ms'],
    [1_500_000_000n, '1.5s'],
    [90_000_000_000n, '1m30s'],
    [3_600_000_000_000n, '1h0m0s'],
    [3_723_000_000_001n, '1h2m3.000000001s'],
    [-2_000_000_000n, '-2s'],
  ])('writes Duration %s ns as Go does: %s', (nanoseconds, text) => {
    expect(goDuration(nanoseconds)).toBe(text);
  });

  it('writes base64 with padding for every length', () => {
    const bytes = Uint8Array.from({ length: 40 }, (_, index) => (index * 37 + 11) & 0xff);
    for (let length = 0; length <= bytes.length; length++) {
      expect(base64(bytes.subarray(0, length))).toBe(Buffer.from(bytes.subarray(0, length)).toString('base64'));
    }
  });

  it('replaces invalid UTF-8 as Go JSON does', () => {
    expect(utf8(Uint8Array.from([0x68, 0xc3, 0xa9, 0xff]))).toBe('hé\uFFFD');
  });

  it('writes times in RFC 3339 and the zero time as null', () => {
    const seconds = (value: number): Uint8Array => Uint8Array.from([0x08, ...leb128(value)]);
    expect(specialValue('Time', seconds(0), 'x')).toBe('1970-01-01T00:00:00Z');
    expect(specialValue('Time', new Uint8Array(), 'x')).toBeNull();
    expect(specialValue('Time', seconds(-62135596800), 'x')).toBeNull();
    expect(specialValue('MicroTime', Uint8Array.from([0x08, ...leb128(86_400), 0x10, ...leb128(999)]), 'x')).toBe('1970-01-02T00:00:00.000000Z');
    expect(() => specialValue('Time', seconds(253402300800), 'metadata.creationTimestamp')).toThrow(/metadata.creationTimestamp: time out of range/);
  });
});

function leb128(value: number): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  return [...out, Number(rest)];
}
