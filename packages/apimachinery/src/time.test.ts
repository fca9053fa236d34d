import { describe, expect, it } from 'vitest';
import { formatMicroTime, formatTime, parseTime } from './time.js';

describe('formatTime (metav1.Time)', () => {
  it('writes RFC 3339 in UTC with whole seconds, from a Date or epoch milliseconds', () => {
    expect(formatTime(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('2024-01-02T03:04:05Z');
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe('2024-01-02T03:04:05Z');
  });

  it('drops the milliseconds rather than rounding them', () => {
    expect(formatTime(Date.UTC(2024, 11, 31, 23, 59, 59, 999))).toBe('2024-12-31T23:59:59Z');
    expect(formatTime(0)).toBe('1970-01-01T00:00:00Z');
  });

  it('truncates towards the earlier second before 1970 too', () => {
    expect(formatTime(-500)).toBe('1969-12-31T23:59:59Z');
  });

  it('refuses a time that is not one, as Date does', () => {
    expect(() => formatTime(Number.NaN)).toThrow(RangeError);
  });
});

describe('formatMicroTime (metav1.MicroTime)', () => {
  it('writes six fractional digits, the milliseconds followed by zeros', () => {
    expect(formatMicroTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))).toBe('2024-01-02T03:04:05.678000Z');
    expect(formatMicroTime(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('2024-01-02T03:04:05.000000Z');
  });
});

describe('parseTime', () => {
  it('reads Time and MicroTime to milliseconds, and what it wrote back', () => {
    expect(parseTime('2024-01-02T03:04:05Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(parseTime('2024-01-02T03:04:05.678000Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(parseTime(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
  });

  it('gives undefined for an absent, empty or unreadable time', () => {
    expect(parseTime(undefined)).toBeUndefined();
    expect(parseTime(null)).toBeUndefined();
    expect(parseTime('')).toBeUndefined();
    expect(parseTime('yesterday')).toBeUndefined();
  });
});
