import { describe, expect, test } from 'vitest';
import { numberFlag, parseDuration, portFlag } from './flags.js';

describe('flags as kube takes them', () => {
  test('Go durations', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('0.5s')).toBe(500);
  });
  test('a bad duration is refused, naming it', () => {
    expect(() => parseDuration('15')).toThrow('invalid duration "15"');
    expect(() => parseDuration('')).toThrow('invalid duration ""');
    expect(() => parseDuration('1x')).toThrow('invalid duration "1x"');
  });
  test('ports and numbers are checked', () => {
    expect(portFlag('--port')('0')).toBe(0);
    expect(() => portFlag('--port')('70000')).toThrow('--port must be a port number');
    expect(numberFlag('--rate', { min: 0 })('0.1')).toBe(0.1);
    expect(() => numberFlag('--rate', { min: 0 })('-1')).toThrow('--rate takes a number ≥ 0, got -1');
    expect(() => numberFlag('--n', { integer: true })('1.5')).toThrow('--n takes a whole number');
  });
});
