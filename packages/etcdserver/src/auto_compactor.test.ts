import { describe, expect, test } from 'vitest';
import { AutoCompactor, parseRetention } from './auto_compactor.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('auto compaction (etcd’s modes)', () => {
  test('retention parses as etcd reads it', () => {
    expect(parseRetention('periodic', '1')).toBe(HOUR);
    expect(parseRetention('periodic', '30m')).toBe(30 * MINUTE);
    expect(parseRetention('periodic', '1h30m')).toBe(90 * MINUTE);
    expect(parseRetention('revision', '1000')).toBe(1000);
    expect(() => parseRetention('periodic', 'soon')).toThrow('not a duration');
    expect(() => parseRetention('revision', '1h')).toThrow('not a revision count');
  });

  test('revision mode: every 5 minutes, down to the current revision minus the retention', () => {
    const compactor = new AutoCompactor('revision', 100, 0);
    expect(compactor.tick(4 * MINUTE, 500, 0)).toBeUndefined();
    expect(compactor.tick(5 * MINUTE, 500, 0)).toBe(400);
    expect(compactor.tick(6 * MINUTE, 900, 400)).toBeUndefined(); // not yet 5 minutes later
    expect(compactor.tick(10 * MINUTE, 450, 400)).toBeUndefined(); // nothing new to compact
  });

  test('periodic mode: keeps one retention period of history', () => {
    const compactor = new AutoCompactor('periodic', 10 * MINUTE, 0); // samples every minute
    let revision = 1;
    const compactions: [number, number][] = [];
    for (let minute = 1; minute <= 15; minute++) {
      revision += 10;
      const target = compactor.tick(minute * MINUTE, revision, compactions.at(-1)?.[1] ?? 0);
      if (target !== undefined) compactions.push([minute, target]);
    }
    // The first compaction comes once a full period has passed, to the revision seen 10 minutes before.
    expect(compactions[0]).toEqual([11, 11]);
    expect(compactions.at(-1)).toEqual([15, 51]);
  });

  test('retention 0 is off', () => {
    const compactor = new AutoCompactor('periodic', 0, 0);
    expect(compactor.enabled()).toBe(false);
    expect(compactor.tick(10 * HOUR, 1000, 0)).toBeUndefined();
  });
});
