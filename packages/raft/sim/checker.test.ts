import { describe, expect, test } from 'vitest';
import { EntryType, type Entry } from '../src/index.js';
import { SafetyChecker, SafetyViolation, type LogView } from './checker.js';

const entry = (index: number, term: number, value = `x${index}`): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new TextEncoder().encode(value),
});

/** A log view over terms of entries 1..n. */
const log = (terms: number[]): LogView => ({ snapshotIndex: () => 0, term: (index) => (index === 0 ? 0 : terms[index - 1]) });

describe('the safety checker objects to broken histories', () => {
  test('Election Safety: two leaders in one term', () => {
    const checker = new SafetyChecker();
    checker.onLeader(1, 3, log([]));
    checker.onLeader(1, 3, log([])); // the same leader again is fine
    expect(() => checker.onLeader(2, 3, log([]))).toThrow(/Election Safety/);
  });

  test('Log Matching: one index and term holding two commands', () => {
    const checker = new SafetyChecker();
    checker.onAppend(1, [entry(1, 1, 'a')], log([1]));
    checker.onAppend(2, [entry(1, 1, 'a')], log([1]));
    expect(() => checker.onAppend(3, [entry(1, 1, 'b')], log([1]))).toThrow(/Log Matching/);
  });

  test('Log Matching: one index and term after different previous terms', () => {
    const checker = new SafetyChecker();
    checker.onAppend(1, [entry(3, 4)], log([1, 2, 4]));
    expect(() => checker.onAppend(2, [entry(3, 4)], log([1, 3, 4]))).toThrow(/Log Matching/);
  });

  test('State Machine Safety: two nodes apply different entries at one index', () => {
    const checker = new SafetyChecker();
    checker.onApply(1, entry(5, 2, 'a'));
    checker.onApply(2, entry(5, 2, 'a'));
    expect(() => checker.onApply(3, entry(5, 3, 'a'))).toThrow(SafetyViolation);
    expect(() => checker.onApply(3, entry(5, 2, 'b'))).toThrow(/State Machine Safety/);
  });

  test('Leader Completeness: a new leader lacks an applied entry', () => {
    const checker = new SafetyChecker();
    checker.onApply(1, entry(1, 1));
    checker.onApply(1, entry(2, 2));
    checker.onLeader(1, 3, log([1, 2]));
    expect(() => checker.onLeader(2, 4, log([1, 3]))).toThrow(/Leader Completeness/);
    expect(() => checker.onLeader(3, 5, log([1]))).toThrow(/Leader Completeness/);
  });

  test('Linearizable Read: a read point below a write acknowledged before the read began', () => {
    const checker = new SafetyChecker();
    checker.onAcknowledged('a', 7);
    const floor = checker.readFloor();
    checker.onReadServed(1, 'r1', 7, floor);
    expect(() => checker.onReadServed(1, 'r2', 6, floor)).toThrow(/Linearizable Read/);
  });

  test('Durability: an acknowledged write missing from a surviving node', () => {
    const checker = new SafetyChecker();
    checker.onApply(1, entry(4, 2, 'a'));
    checker.onAcknowledged('a', 4);
    checker.checkAcknowledgedKept([{ id: 1, appliedIndex: 4 }]);
    expect(() => checker.checkAcknowledgedKept([{ id: 2, appliedIndex: 3 }])).toThrow(/Durability/);
    checker.onAcknowledged('b', 5); // acknowledged, yet nothing was applied at 5
    expect(() => checker.checkAcknowledgedKept([{ id: 1, appliedIndex: 5 }])).toThrow(/Durability/);
  });
});
