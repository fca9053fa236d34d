import { describe, expect, it } from 'vitest';
import { checkHistory, HistoryError, type CheckResult, type Operation, type Value } from './index.js';

// Each case draws its timeline: time runs left to right, one row per client, [ ] is an operation
// from invocation to completion, `…` one that never completed.

type Span = readonly [invokedAt: number, completedAt: number];

const read = (client: number, value: Value, [invokedAt, completedAt]: Span, key = 'x'): Operation => ({
  client, key, kind: 'read', value, invokedAt, completedAt, outcome: 'ok',
});
const write = (client: number, value: Value, [invokedAt, completedAt]: Span, key = 'x'): Operation => ({
  client, key, kind: 'write', value, invokedAt, completedAt, outcome: 'ok',
});
const cas = (client: number, expected: Value, value: Value, succeeded: boolean, [invokedAt, completedAt]: Span): Operation => ({
  client, key: 'x', kind: 'cas', expected, value, succeeded, invokedAt, completedAt, outcome: 'ok',
});
/** The client never heard back: a timeout or a crash. */
const unknown = (operation: Operation): Operation => {
  const { completedAt: _ignored, ...rest } = operation;
  return { ...rest, outcome: 'unknown' } as Operation;
};
/** The store said no: it did not happen. */
const failed = (operation: Operation): Operation => ({ ...operation, outcome: 'fail' });

function expectLinearizable(result: CheckResult): void {
  expect(result.ok, result.verdict === 'not-linearizable' ? result.explanation.message : JSON.stringify(result)).toBe(true);
}

function expectViolation(result: CheckResult, key = 'x') {
  expect(result.verdict).toBe('not-linearizable');
  if (result.verdict !== 'not-linearizable') throw new Error('unreachable');
  expect(result.key).toBe(key);
  return result.explanation;
}

describe('sequential histories', () => {
  it('accepts writes and reads one after another', () => {
    // c1: [w a] [r a] [w b] [r b]
    expectLinearizable(
      checkHistory([write(1, 'a', [0, 1]), read(1, 'a', [2, 3]), write(1, 'b', [4, 5]), read(1, 'b', [6, 7])]),
    );
  });

  it('accepts the empty history and a first read of nil', () => {
    expectLinearizable(checkHistory([]));
    expectLinearizable(checkHistory([read(1, null, [0, 1])]));
  });

  it('honours the initial value', () => {
    expectLinearizable(checkHistory([read(1, 'seed', [0, 1])], { initialValue: 'seed' }));
    expectViolation(checkHistory([read(1, null, [0, 1])], { initialValue: 'seed' }));
  });

  it('a write of null is a delete', () => {
    expectLinearizable(checkHistory([write(1, 'a', [0, 1]), write(1, null, [2, 3]), read(2, null, [4, 5])]));
  });

  it('operations that touch at one instant count as concurrent', () => {
    // c1: [w a]
    // c2:     [r nil]   (invoked at the very instant the write completed)
    expectLinearizable(checkHistory([write(1, 'a', [0, 5]), read(2, null, [5, 6])]));
  });
});

describe('concurrent operations', () => {
  it('accepts either order of two overlapping writes, as seen by a later read', () => {
    // c1: [ w a   ]
    // c2:   [ w b   ]
    // c3:             [r ?]
    for (const seen of ['a', 'b']) {
      expectLinearizable(checkHistory([write(1, 'a', [0, 4]), write(2, 'b', [1, 5]), read(3, seen, [6, 7])]));
    }
  });

  it('accepts a read overlapping a write seeing the old or the new value', () => {
    // c1: [w a] [   w b   ]
    // c2:         [r ?]
    for (const seen of ['a', 'b']) {
      expectLinearizable(checkHistory([write(1, 'a', [0, 1]), write(1, 'b', [2, 6]), read(2, seen, [3, 4])]));
    }
  });

  it('rejects two reads that disagree on which concurrent write came last, once both are done', () => {
    // c1: [ w a ]
    // c2: [ w b ]
    // c3:         [r a]
    // c4:         [r b]    (after both writes the value is settled: both reads must see the same)
    const explanation = expectViolation(
      checkHistory([
        write(1, 'a', [0, 4]),
        write(2, 'b', [0, 4]),
        read(3, 'a', [5, 6]),
        read(4, 'b', [5, 6]),
      ]),
    );
    expect(explanation.message).toContain('not linearizable');
  });

  it('accepts reads that flip while a write is in flight, in one order only', () => {
    // c1: [        w b         ]
    // c2:   [r a] [r b] [r b]      a then b: the write took effect between the reads
    expectLinearizable(
      checkHistory([write(0, 'a', [-2, -1]), write(1, 'b', [0, 10]), read(2, 'a', [1, 2]), read(2, 'b', [3, 4]), read(2, 'b', [5, 6])]),
    );
    // c2:   [r b] [r a]            b then a: the write cannot be undone
    expectViolation(checkHistory([write(0, 'a', [-2, -1]), write(1, 'b', [0, 10]), read(2, 'b', [1, 2]), read(2, 'a', [3, 4])]));
  });
});

describe('violations', () => {
  it('rejects a stale read after a completed write', () => {
    // c1: [w a] [w b]
    // c2:             [r a]    stale: b was acknowledged before the read began
    const explanation = expectViolation(
      checkHistory([write(1, 'a', [0, 1]), write(1, 'b', [2, 3]), read(2, 'a', [4, 5])]),
    );
    expect(explanation.stuck.index).toBe(2);
    expect(explanation.valueBefore).toBe('b');
    expect(explanation.linearizedTail.map((e) => e.index)).toEqual([0, 1]);
    expect(explanation.message).toContain('client 2 read "x" → "a" [4, 5] ok');
  });

  it('rejects a read of a value never written', () => {
    // c1: [w a]
    // c2:   [r z]
    const explanation = expectViolation(checkHistory([write(1, 'a', [0, 3]), read(2, 'z', [1, 2])]));
    expect(explanation.stuck.operation).toMatchObject({ kind: 'read', value: 'z' });
  });

  it('rejects a lost acknowledged write: a later read returns the older value', () => {
    // c1: [w old] [w new]
    // c2:                  [r old]    (nothing concurrent could have restored old)
    expectViolation(
      checkHistory([write(1, 'old', [0, 1]), write(1, 'new', [2, 3]), read(2, 'old', [10, 11])]),
    );
    // c1: [w v1] [r v1]
    // c2:               [r nil]       the acknowledged (and already seen) write vanished
    expectViolation(checkHistory([write(1, 'v1', [0, 1]), read(1, 'v1', [2, 3]), read(2, null, [4, 5])]));
  });

  it('names the operations overlapping the point of failure', () => {
    // c1: [w a] [   w c     ]
    // c2:         [ r b ]        b was never written; w c was pending when the read completed
    const explanation = expectViolation(checkHistory([write(1, 'a', [0, 1]), write(1, 'c', [2, 9]), read(2, 'b', [3, 5])]));
    expect(explanation.stuck.index).toBe(2);
    expect(explanation.concurrent.map((e) => e.index)).toEqual([1]);
    expect(explanation.message).toContain('#1 client 1 write "x" "c" [2, 9] ok');
  });

  it('checks keys independently and reports the offending one', () => {
    // x is fine; y has a stale read. A read of y is not disturbed by writes to x.
    const result = checkHistory([
      write(1, 'a', [0, 1], 'x'),
      write(1, 'a', [0, 1], 'y'),
      write(1, 'b', [2, 3], 'y'),
      read(2, 'a', [4, 5], 'x'),
      read(2, 'a', [4, 5], 'y'),
    ]);
    expectViolation(result, 'y');
  });
});

describe('compare-and-set', () => {
  it('accepts a swap when the value matched and a refusal when it did not', () => {
    // c1: [w a] [cas a→b ✓] [cas a→c ✗] [r b]
    expectLinearizable(
      checkHistory([
        write(1, 'a', [0, 1]),
        cas(1, 'a', 'b', true, [2, 3]),
        cas(1, 'a', 'c', false, [4, 5]),
        read(1, 'b', [6, 7]),
      ]),
    );
  });

  it('rejects a swap reported while the value could not have matched', () => {
    // c1: [w a] [w b] [cas a→c ✓]
    expectViolation(checkHistory([write(1, 'a', [0, 1]), write(1, 'b', [2, 3]), cas(2, 'a', 'c', true, [4, 5])]));
  });

  it('rejects a refusal reported while the value surely matched', () => {
    // c1: [w a] [cas a→c ✗]   nothing else could have changed a
    expectViolation(checkHistory([write(1, 'a', [0, 1]), cas(2, 'a', 'c', false, [2, 3])]));
  });

  it('a refusal can be explained by a concurrent write', () => {
    // c1: [w a] [   w b   ]
    // c2:        [cas a→c ✗]  (w b took effect first)   then [r b]
    expectLinearizable(
      checkHistory([write(1, 'a', [0, 1]), write(1, 'b', [2, 6]), cas(2, 'a', 'c', false, [3, 5]), read(2, 'b', [7, 8])]),
    );
  });

  it('two clients cannot both win the same cas', () => {
    // c1: [cas nil→1 ✓]
    // c2: [cas nil→2 ✓]     both claim the empty key: a lost update
    expectViolation(checkHistory([cas(1, null, '1', true, [0, 3]), cas(2, null, '2', true, [1, 4])]));
    expectLinearizable(checkHistory([cas(1, null, '1', true, [0, 3]), cas(2, null, '2', false, [1, 4])]));
  });

  it('a failed cas (outcome fail) did nothing and constrains nothing', () => {
    // c1: [w a] [cas a→b fail] [r a]
    expectLinearizable(checkHistory([write(1, 'a', [0, 1]), failed(cas(1, 'a', 'b', true, [2, 3])), read(1, 'a', [4, 5])]));
  });
});

describe('operations with unknown outcome', () => {
  it('a timed-out write may have taken effect…', () => {
    // c1: [w a] [w b …
    // c2:              [r b]
    expectLinearizable(checkHistory([write(1, 'a', [0, 1]), unknown(write(1, 'b', [2, 3])), read(2, 'b', [10, 11])]));
  });

  it('…or not', () => {
    // c1: [w a] [w b …
    // c2:              [r a]
    expectLinearizable(checkHistory([write(1, 'a', [0, 1]), unknown(write(1, 'b', [2, 3])), read(2, 'a', [10, 11])]));
  });

  it('…and may take effect long after, but only once', () => {
    // c1: [w a] [w b …
    // c2:              [r a] [r b]       fine: it landed late
    // c3:                          [r a] not fine: once landed it cannot vanish
    const base = [write(1, 'a', [0, 1]), unknown(write(1, 'b', [2, 3]))];
    expectLinearizable(checkHistory([...base, read(2, 'a', [10, 11]), read(2, 'b', [12, 13])]));
    expectViolation(checkHistory([...base, read(2, 'a', [10, 11]), read(2, 'b', [12, 13]), read(3, 'a', [14, 15])]));
  });

  it('cannot take effect before it was invoked', () => {
    // c2: [r b]
    // c1:       [w b …
    expectViolation(checkHistory([read(2, 'b', [0, 1]), unknown(write(1, 'b', [2, 3]))]));
  });

  it('an unknown cas may or may not have swapped', () => {
    // c1: [w a] [cas a→b …
    // c2:                  [r a or b]
    for (const seen of ['a', 'b']) {
      expectLinearizable(checkHistory([write(1, 'a', [0, 1]), unknown(cas(1, 'a', 'b', true, [2, 3])), read(2, seen, [5, 6])]));
    }
    // …but it cannot swap when the value did not match.
    expectViolation(checkHistory([write(1, 'z', [0, 1]), unknown(cas(1, 'a', 'b', true, [2, 3])), read(2, 'b', [5, 6])]));
  });

  it('reads that failed or never answered say nothing', () => {
    expectLinearizable(
      checkHistory([
        write(1, 'a', [0, 1]),
        failed(read(2, 'garbage', [2, 3])),
        unknown(read(3, 'garbage', [2, 3])),
        read(1, 'a', [4, 5]),
      ]),
    );
  });

  it('a write that failed did not happen', () => {
    // c1: [w a] [w b fail] [r b]
    expectViolation(checkHistory([write(1, 'a', [0, 1]), failed(write(1, 'b', [2, 3])), read(1, 'b', [4, 5])]));
  });
});

describe('bounds and malformed input', () => {
  it('answers unknown, not ok, when the search exceeds its budget', () => {
    // 18 writes all in flight at once, then a read of a value none of them wrote: proving that
    // no order works means trying ~2^18 subsets.
    const writes = Array.from({ length: 18 }, (_, i) => write(i, `v${i}`, [0, 100]));
    const result = checkHistory([...writes, read(99, 'nobody', [101, 102])], { maxStatesPerKey: 5_000 });
    expect(result).toMatchObject({ ok: false, verdict: 'unknown', key: 'x' });
  });

  it('still finds a violation on another key when one key is too large', () => {
    const writes = Array.from({ length: 18 }, (_, i) => write(i, `v${i}`, [0, 100], 'big'));
    const result = checkHistory(
      [...writes, read(99, 'nobody', [101, 102], 'big'), write(1, 'a', [0, 1], 'small'), read(2, 'b', [2, 3], 'small')],
      { maxStatesPerKey: 5_000 },
    );
    expectViolation(result, 'small');
  });

  it('refuses malformed operations loudly', () => {
    expect(() => checkHistory([write(1, 'a', [5, 4])])).toThrow(HistoryError);
    expect(() => checkHistory([{ client: 1, key: 'x', kind: 'read', invokedAt: 0, completedAt: 1, outcome: 'ok' }])).toThrow(
      /needs the value it returned/,
    );
    expect(() =>
      checkHistory([{ client: 1, key: 'x', kind: 'cas', expected: 'a', value: 'b', invokedAt: 0, completedAt: 1, outcome: 'ok' }]),
    ).toThrow(/needs `succeeded`/);
    expect(() => checkHistory([{ client: 1, key: 'x', kind: 'write', value: 'a', invokedAt: 0, outcome: 'ok' }])).toThrow(
      /completedAt/,
    );
  });
});
