/** Raised when one of Raft's invariants is broken: a bug, never a recoverable condition. */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

/** Assertions stay on in production: a broken invariant must fail loudly, naming what and where. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new RaftInvariantError(typeof message === 'string' ? message : message());
  }
}
