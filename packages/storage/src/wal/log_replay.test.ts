import { describe, expect, test } from 'vitest';
import { WalCorruptionError } from '../errors.js';
import { entry } from '../testing/fixtures.js';
import { LogReplay, type ReplayedLog } from './log_replay.js';
import { WalRecordType, type WalRecord } from './records.js';

function replay(records: WalRecord[]): ReplayedLog {
  const log = new LogReplay();
  records.forEach((record, position) => log.apply(record, 'test.wal', position * 8));
  return log.result();
}

const put = (index: number, term = 1): WalRecord => ({ type: WalRecordType.Entry, entry: entry(index, term) });
const hard = (term: number, commit: number): WalRecord => ({ type: WalRecordType.HardState, hardState: { term, vote: 1, commit } });
const marker = (index: number, resetsLog: boolean): WalRecord => ({
  type: WalRecordType.Snapshot,
  marker: { index, term: 1, resetsLog },
});
const indexes = (result: ReplayedLog) => result.entries.map((each) => `${each.index}@${each.term}`);

describe('replay', () => {
  test('a later write of an index drops it and everything after it', () => {
    const result = replay([put(1), put(2), put(3), put(4), put(3, 2), put(4, 2), put(2, 3)]);
    expect(indexes(result)).toEqual(['1@1', '2@3']);
    expect(result.firstIndex).toBe(1);
  });

  test('the log may start anywhere (older segments released) and be rewritten from before that start', () => {
    expect(indexes(replay([put(40), put(41), put(42)]))).toEqual(['40@1', '41@1', '42@1']);
    const rewritten = replay([put(40), put(41), put(38, 2), put(39, 2)]);
    expect(indexes(rewritten)).toEqual(['38@2', '39@2']);
    expect(rewritten.firstIndex).toBe(38);
  });

  test('a snapshot that resets the log drops every entry; a compaction marker drops none', () => {
    const reset = replay([put(1), put(2), put(3), marker(2, true)]);
    expect(reset.entries).toEqual([]);
    expect(reset.firstIndex).toBe(3);
    expect(indexes(replay([put(1), put(2), put(3), marker(2, false)]))).toEqual(['1@1', '2@1', '3@1']);
    expect(indexes(replay([put(1), marker(5, true), put(6, 2)]))).toEqual(['6@2']);
  });

  test('the last hard state wins and markers are kept in order', () => {
    const result = replay([hard(1, 0), put(1), marker(1, false), hard(2, 1)]);
    expect(result.hardState).toEqual({ term: 2, vote: 1, commit: 1 });
    expect(result.markers).toEqual([{ index: 1, term: 1, resetsLog: false }]);
  });

  test.each<[string, WalRecord[], RegExp]>([
    ['a gap', [put(1), put(3)], /entry 3: leaves a gap after 1/],
    ['a gap after a reset', [marker(5, true), put(7)], /entry 7: leaves a gap after 5/],
    ['an entry below an installed snapshot', [marker(5, true), put(5)], /below the installed snapshot/],
    ['terms going back along the log', [put(1, 3), put(2, 2)], /term 2 is below the previous entry's term 3/],
    ['the hard state term going back', [hard(3, 0), hard(2, 0)], /hard state went back/],
    ['the commit index going back', [put(1), put(2), hard(1, 2), hard(1, 1)], /hard state went back/],
  ])('%s is corruption', (_, records, message) => {
    expect(() => replay(records)).toThrow(WalCorruptionError);
    expect(() => replay(records)).toThrow(message);
  });
});
