/** Raised when an invariant is broken: a bug, never a recoverable condition. */
export class InvariantError extends Error {
  override readonly name: string = 'InvariantError';
}

/**
 * Assertions stay on in production: a broken invariant must fail loudly, naming what and where.
 * `message` may be a function so that building it costs nothing on the common path.
 */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}
