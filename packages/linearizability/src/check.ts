import {
  describeOperation,
  formatValue,
  partitionByKey,
  type HistoryEntry,
  type Operation,
  type Value,
} from './history.js';
import { searchRegister, type DeadEnd } from './search.js';

export interface CheckOptions {
  /** Every key's value before the history starts. Default: null (absent). */
  readonly initialValue?: Value;
  /**
   * Give up on a key after this many distinct (taken operations, value) states, answering
   * verdict 'unknown' instead of running for hours. Memory grows with it (roughly n/8 bytes per
   * state for n operations on the key). Default 1,000,000.
   */
  readonly maxStatesPerKey?: number;
}

export const DEFAULT_MAX_STATES_PER_KEY = 1_000_000;

/** How many of the last taken operations an explanation shows. */
const TAKEN_TAIL = 6;

export type CheckResult = Linearizable | NotLinearizable | Undecided;

export interface Linearizable {
  readonly ok: true;
  readonly verdict: 'linearizable';
  readonly keysChecked: number;
  readonly statesExplored: number;
}

export interface NotLinearizable {
  readonly ok: false;
  readonly verdict: 'not-linearizable';
  readonly key: string;
  readonly explanation: Explanation;
}

/** The search hit its bound. Not ok: a checker that could not decide must not pass a test. */
export interface Undecided {
  readonly ok: false;
  readonly verdict: 'unknown';
  readonly key: string;
  readonly reason: string;
  readonly statesExplored: number;
}

/**
 * The neighbourhood of the failure, from the deepest attempt of the search: the operations it
 * managed to order last, the value they left, the operation whose completion it could not get past,
 * and the operations overlapping that one. Other orders fail too, perhaps elsewhere; this one got
 * furthest.
 */
export interface Explanation {
  /** A paragraph for a test failure. */
  readonly message: string;
  /** How many operations the deepest attempt ordered. */
  readonly linearizedCount: number;
  /** The last of them (up to 6), in the order they took effect. */
  readonly linearizedTail: readonly HistoryEntry[];
  /** The register's value after them. */
  readonly valueBefore: Value;
  /** The operation whose completion the furthest attempt could not get past. */
  readonly stuck: HistoryEntry;
  /**
   * The operations whose intervals overlap `stuck`'s, in history order: its possible reorderings.
   * Of the unknown-outcome ones, only those that write the value `stuck` needed.
   */
  readonly concurrent: readonly HistoryEntry[];
}

/**
 * Whether the history is linearizable: whether each key's operations could have taken effect one
 * at a time, each at some instant between its invocation and its completion, in an order that
 * explains every answer. Keys are independent registers, so each is checked on its own.
 *
 * Throws HistoryError for a malformed history.
 */
export function checkHistory(history: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const initial = options.initialValue ?? null;
  const maxStates = options.maxStatesPerKey ?? DEFAULT_MAX_STATES_PER_KEY;
  if (!(maxStates > 0)) throw new RangeError('maxStatesPerKey must be positive');

  let statesExplored = 0;
  let undecided: Undecided | undefined;
  const byKey = partitionByKey(history);
  for (const [key, entries] of byKey) {
    const outcome = searchRegister(entries, initial, maxStates);
    statesExplored += outcome.statesExplored;
    switch (outcome.kind) {
      case 'linearizable':
        break;
      case 'not-linearizable':
        return { ok: false, verdict: 'not-linearizable', key, explanation: explain(key, entries, outcome.deadEnd) };
      case 'too-large':
        // Keep looking: a definite violation on another key is the more useful answer.
        undecided ??= {
          ok: false,
          verdict: 'unknown',
          key,
          reason: `gave up on key ${JSON.stringify(key)} (${entries.length} operations) after ${outcome.statesExplored} states`,
          statesExplored: outcome.statesExplored,
        };
        break;
    }
  }
  return undecided ?? { ok: true, verdict: 'linearizable', keysChecked: byKey.size, statesExplored };
}

function explain(key: string, entries: readonly HistoryEntry[], deadEnd: DeadEnd): Explanation {
  const tail = deadEnd.taken.slice(-TAKEN_TAIL);
  const stuck = deadEnd.stuck.operation;
  const overlapping = entries.filter((e) => e !== deadEnd.stuck && overlaps(e.operation, stuck));
  // Unknown operations overlap everything after their invocation; name only those that could
  // have supplied the value the stuck operation needed.
  const concurrent = overlapping.filter((e) => e.operation.outcome === 'ok' || couldSupply(e.operation, stuck));
  const otherUnknown = overlapping.length - concurrent.length;
  const lines = [`key ${JSON.stringify(key)} is not linearizable.`];
  if (deadEnd.taken.length === 0) {
    lines.push(`No operation can take effect first, on the initial value ${formatValue(deadEnd.valueAfterTaken)}.`);
  } else {
    lines.push(
      `The furthest valid order found takes ${deadEnd.taken.length} operation(s), ending with:`,
      ...tail.map((e) => `  #${e.index} ${describeOperation(e.operation)}`),
      `which leave the value ${formatValue(deadEnd.valueAfterTaken)}.`,
    );
  }
  lines.push(
    `Stuck at #${deadEnd.stuck.index} ${describeOperation(stuck)}: it had completed, yet no choice of the next operations lets it take effect.`,
    concurrent.length === 0 ? 'No answered operation overlaps it.' : 'Operations overlapping it:',
    ...concurrent.map((e) => `  #${e.index} ${describeOperation(e.operation)}`),
  );
  if (otherUnknown > 0) {
    lines.push(`(${otherUnknown} more operation(s) of unknown outcome overlap it; none writes the value it needed.)`);
  }
  return {
    message: lines.join('\n'),
    linearizedCount: deadEnd.taken.length,
    linearizedTail: tail,
    valueBefore: deadEnd.valueAfterTaken,
    stuck: deadEnd.stuck,
    concurrent,
  };
}

/** Whether `writer` could leave the value `reader` needed (a read's result, a cas's expected value). */
function couldSupply(writer: Operation, reader: Operation): boolean {
  if (writer.kind === 'read') return false;
  if (reader.kind === 'read') return writer.value === reader.value;
  if (reader.kind === 'cas') return writer.value === reader.expected || reader.succeeded === false;
  return false;
}

/** Whether two operations were in flight at a common instant (unknown ones never end). */
function overlaps(a: Operation, b: Operation): boolean {
  const end = (o: Operation) => (o.outcome === 'unknown' ? Infinity : (o.completedAt ?? Infinity));
  return a.invokedAt <= end(b) && b.invokedAt <= end(a);
}
