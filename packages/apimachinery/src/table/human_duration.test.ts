import { describe, expect, it } from 'vitest';
import { humanDuration, timeSince } from './human_duration.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

describe('humanDuration', () => {
  it.each([
    // Clock skew up to 2s in the future is "0s"; more is invalid.
    [-2 * SECOND, '<invalid>'],
    [-1999, '0s'],
    [-1 * SECOND, '0s'],
    [0, '0s'],
    [999, '0s'],
    [5 * SECOND, '5s'],
    // Seconds up to two minutes.
    [119 * SECOND + 999, '119s'],
    [2 * MINUTE, '2m'],
    [3 * MINUTE + 2 * SECOND, '3m2s'],
    [9 * MINUTE + 59 * SECOND, '9m59s'],
    // Whole minutes from 10m to 3h.
    [10 * MINUTE + 30 * SECOND, '10m'],
    [179 * MINUTE + 59 * SECOND, '179m'],
    [3 * HOUR, '3h'],
    [2 * HOUR + 5 * MINUTE, '125m'],
    [3 * HOUR + 5 * MINUTE, '3h5m'],
    [7 * HOUR + 59 * MINUTE, '7h59m'],
    // Whole hours from 8h to 48h.
    [8 * HOUR + 30 * MINUTE, '8h'],
    [47 * HOUR + 59 * MINUTE, '47h'],
    [2 * DAY, '2d'],
    [3 * DAY + 4 * HOUR, '3d4h'],
    [7 * DAY + 23 * HOUR, '7d23h'],
    // Whole days from 8d to 2y.
    [8 * DAY + 5 * HOUR, '8d'],
    [729 * DAY, '729d'],
    [2 * YEAR, '2y'],
    [2 * YEAR + 100 * DAY, '2y100d'],
    [7 * YEAR + 364 * DAY, '7y364d'],
    // Whole years from 8y.
    [8 * YEAR + 100 * DAY, '8y'],
    [20 * YEAR, '20y'],
  ])('%d ms is %s', (durationMs, expected) => {
    expect(humanDuration(durationMs)).toBe(expected);
  });
});

describe('timeSince', () => {
  const now = new Date('2025-01-01T12:00:00Z');

  it('measures from an RFC 3339 timestamp to now', () => {
    expect(timeSince('2025-01-01T11:55:00Z', now)).toBe('5m');
    expect(timeSince('2025-01-01T11:59:59.500000Z', now)).toBe('0s');
  });

  it('is <unknown> without a timestamp', () => {
    expect(timeSince(undefined, now)).toBe('<unknown>');
    expect(timeSince('', now)).toBe('<unknown>');
  });
});
