import type { Operation, Value } from './history.js';

/** Returned by `step` when the operation cannot take effect in the given state. */
export const ILLEGAL: unique symbol = Symbol('illegal');

/**
 * The sequential specification of one register: the value after `operation` takes effect on a
 * register holding `value`, or ILLEGAL when what the client saw contradicts `value`.
 *
 * An `unknown` operation is only ever stepped when the search decides it took effect; the case
 * where it never did is covered by never stepping it (the search succeeds without it).
 */
export function step(value: Value, operation: Operation): Value | typeof ILLEGAL {
  switch (operation.kind) {
    case 'read':
      // Only ok reads reach the search (see partitionByKey).
      return operation.value === value ? value : ILLEGAL;
    case 'write':
      return operation.value;
    case 'cas':
      if (operation.outcome === 'unknown') return value === operation.expected ? operation.value : value;
      if (operation.succeeded) return value === operation.expected ? operation.value : ILLEGAL;
      return value === operation.expected ? ILLEGAL : value;
  }
}
