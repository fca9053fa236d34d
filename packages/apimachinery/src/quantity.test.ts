import { describe, expect, it } from 'vitest';
import {
  QUANTITY_FORMAT_MESSAGE,
  compareQuantities,
  integerValue,
  isValidQuantity,
  milliValue,
  parseQuantity,
  quantityValue,
} from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['1', 1],
    ['1.5', 1.5],
    ['100m', 0.1],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1k', 1000],
    ['1M', 1_000_000],
    ['1G', 1e9],
    ['1Ki', 1024],
    ['500Mi', 500 * 1024 * 1024],
    ['2Gi', 2 * 1024 ** 3],
    ['1e3', 1000],
    ['1E3', 1000],
    ['1e-3', 0.001],
    ['1E', 1e18],
    ['250n', 250e-9],
    ['-2', -2],
    ['+2', 2],
  ])('reads %s as %d base units', (text, expected) => {
    expect(quantityValue(parseQuantity(text))).toBeCloseTo(expected, 12);
  });

  it('accepts JSON numbers, as a YAML "cpu: 1" arrives', () => {
    expect(quantityValue(parseQuantity(2))).toBe(2);
    expect(quantityValue(parseQuantity(0.25))).toBe(0.25);
  });

  it.each(['', 'abc', '1K', '1ki', '1e', '1.2.3', '1 Gi', 'Gi', '1Gib', '1m5', '.'])('rejects %j with upstream message', (text) => {
    expect(isValidQuantity(text)).toBe(false);
    expect(() => parseQuantity(text)).toThrow(QUANTITY_FORMAT_MESSAGE);
  });
});

describe('milli and integer values', () => {
  it('gives cpu in milli-cores', () => {
    expect(milliValue(parseQuantity('100m'))).toBe(100);
    expect(milliValue(parseQuantity('1'))).toBe(1000);
    expect(milliValue(parseQuantity('1.5'))).toBe(1500);
    expect(milliValue(parseQuantity('250u'))).toBe(1); // rounds up like Go
  });

  it('rounds integer values up', () => {
    expect(integerValue(parseQuantity('100m'))).toBe(1);
    expect(integerValue(parseQuantity('1Ki'))).toBe(1024);
  });
});

describe('compareQuantities', () => {
  it('compares exactly across suffixes', () => {
    expect(compareQuantities(parseQuantity('1'), parseQuantity('1000m'))).toBe(0);
    expect(compareQuantities(parseQuantity('1Gi'), parseQuantity('1G'))).toBe(1);
    expect(compareQuantities(parseQuantity('500m'), parseQuantity('0.6'))).toBe(-1);
    expect(compareQuantities(parseQuantity('0.1'), parseQuantity('100m'))).toBe(0);
  });
});
