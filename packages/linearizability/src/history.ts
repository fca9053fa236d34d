/**
 * Histories of client operations on a key-value store whose keys are independent registers.
 *
 * An operation is what one client saw: when it asked (`invokedAt`), when it got an answer
 * (`completedAt`) and what the answer was (`outcome`). Times only need to be comparable across
 * clients (one clock, or a test harness's logical time).
 */

/** A register's content; null means the key does not exist (never written, or deleted). */
export type Value = string | null;

/**
 * - `ok`: the store answered; the operation took effect exactly once, somewhere between its
 *   invocation and its completion.
 * - `fail`: the store answered that it did not happen (and it did not): it is ignored.
 * - `unknown`: no answer (timeout, crash, lost connection). It may have taken effect at any time
 *   after its invocation, even long after — or never. `completedAt` is ignored.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

export type ClientId = string | number;

interface OperationBase {
  readonly client: ClientId;
  readonly key: string;
  readonly invokedAt: number;
  /** Required unless the outcome is `unknown`; must not precede `invokedAt`. */
  readonly completedAt?: number;
  readonly outcome: Outcome;
}

export interface ReadOperation extends OperationBase {
  readonly kind: 'read';
  /** The value the read returned; required for `ok` reads. */
  readonly value?: Value;
}

export interface WriteOperation extends OperationBase {
  readonly kind: 'write';
  /** null writes are deletes. */
  readonly value: Value;
}

/** Compare-and-set: if the register holds `expected`, replace it with `value`. */
export interface CasOperation extends OperationBase {
  readonly kind: 'cas';
  readonly expected: Value;
  readonly value: Value;
  /**
   * For `ok` cas (required then): whether the comparison held and the value was swapped. A cas that
   * ran and found another value is `ok` with `succeeded: false` — it still tells us the register did
   * not hold `expected` at that moment. Use outcome `fail` only when it surely did not run.
   */
  readonly succeeded?: boolean;
}

export type Operation = ReadOperation | WriteOperation | CasOperation;

/** An operation with its position in the history given to the checker. */
export interface HistoryEntry {
  readonly index: number;
  readonly operation: Operation;
}

/** Raised for a malformed history: a bug in the harness that recorded it, not a verdict. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}

/** Refuses operations the checker could only misread. */
export function validateOperation(operation: Operation, index: number): void {
  const where = `history[${index}] (${describeOperation(operation)})`;
  const fail = (problem: string): never => {
    throw new HistoryError(`${where}: ${problem}`);
  };
  if (!Number.isFinite(operation.invokedAt)) fail('invokedAt must be a finite number');
  if (operation.outcome !== 'ok' && operation.outcome !== 'fail' && operation.outcome !== 'unknown') {
    fail(`unknown outcome ${String(operation.outcome)}`);
  }
  if (operation.outcome !== 'unknown') {
    if (operation.completedAt === undefined || !Number.isFinite(operation.completedAt)) {
      fail('completedAt must be a finite number unless the outcome is unknown');
    } else if (operation.completedAt < operation.invokedAt) {
      fail('completedAt precedes invokedAt');
    }
  }
  switch (operation.kind) {
    case 'read':
      if (operation.outcome === 'ok' && operation.value === undefined) fail('an ok read needs the value it returned');
      break;
    case 'write':
      break;
    case 'cas':
      if (operation.outcome === 'ok' && typeof operation.succeeded !== 'boolean') {
        fail('an ok cas needs `succeeded`');
      }
      break;
    default:
      fail(`unknown kind ${String((operation as { kind: unknown }).kind)}`);
  }
}

/**
 * Operations that can constrain the register, grouped by key in order of first appearance. Failed
 * operations did nothing, and reads without an answer observed nothing: both are left out.
 */
export function partitionByKey(history: readonly Operation[]): Map<string, HistoryEntry[]> {
  const byKey = new Map<string, HistoryEntry[]>();
  history.forEach((operation, index) => {
    validateOperation(operation, index);
    if (operation.outcome === 'fail') return;
    if (operation.kind === 'read' && operation.outcome !== 'ok') return;
    let entries = byKey.get(operation.key);
    if (entries === undefined) {
      entries = [];
      byKey.set(operation.key, entries);
    }
    entries.push({ index, operation });
  });
  return byKey;
}

export function formatValue(value: Value | undefined): string {
  return value === null ? 'nil' : value === undefined ? '?' : JSON.stringify(value);
}

/** One line, e.g. `client 2 cas "x" "a"→"b" (swapped) [3, 7] ok`. */
export function describeOperation(operation: Operation): string {
  const key = JSON.stringify(operation.key);
  let what: string;
  switch (operation.kind) {
    case 'read':
      what = `read ${key}${operation.outcome === 'ok' ? ` → ${formatValue(operation.value)}` : ''}`;
      break;
    case 'write':
      what = `write ${key} ${formatValue(operation.value)}`;
      break;
    case 'cas': {
      const result = operation.outcome === 'ok' ? (operation.succeeded ? ' (swapped)' : ' (no match)') : '';
      what = `cas ${key} ${formatValue(operation.expected)}→${formatValue(operation.value)}${result}`;
      break;
    }
  }
  const end = operation.outcome === 'unknown' ? '∞' : String(operation.completedAt);
  return `client ${String(operation.client)} ${what} [${operation.invokedAt}, ${end}] ${operation.outcome}`;
}
