/** Raised when one of the store's invariants is broken: a bug, never a recoverable condition. */
export class MvccInvariantError extends Error {
  override readonly name = 'MvccInvariantError';
}

/** Assertions stay on in production: a broken invariant must fail loudly, naming what and where. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new MvccInvariantError(typeof message === 'string' ? message : message());
  }
}
